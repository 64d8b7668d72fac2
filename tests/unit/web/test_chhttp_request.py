"""An HTTP request to the ClickHouse interface taken apart, bodies and answers
compressed, and chDB's errors in ClickHouse's shape (sinks/chhttp/request.py,
engine.from_engine)."""

from __future__ import annotations

import base64
import gzip
import zlib

import lz4.frame
import pytest
from clickhouse_connect.driver.compression import Lz4Compressor
from urllib3.filepost import encode_multipart_formdata

from core.errors import ClickHouseHTTPError
from web.chhttp import request
from web.chhttp.engine import from_engine, http_status


def test_a_query_parameter_and_a_body_join_with_a_line_break() -> None:
    req = request.parse("post", [("query", "INSERT INTO t FORMAT TSV")], {}, b"1\tx\n")
    assert req.method == "POST" and req.query == b"INSERT INTO t FORMAT TSV\n1\tx\n"
    assert request.parse("POST", [], {}, b"SELECT 1").query == b"SELECT 1"
    assert request.parse("GET", [("query", "SELECT 1")], {}, b"").query == b"SELECT 1\n"


def test_parameters_settings_and_transport_are_told_apart() -> None:
    req = request.parse(
        "POST",
        [("database", "sf"), ("param_x", "a\\tb"), ("max_threads", "2"), ("query_id", "q1"),
         ("session_id", "s"), ("wait_end_of_query", "1"), ("default_format", "JSON"),
         ("max_threads", "3")],
        {"accept-encoding": "gzip"},
        b"SELECT {x:String}",
    )  # fmt: skip
    assert req.params == {"x": "a\\tb"}
    assert req.settings == {"max_threads": "3"}  # the last of a repeated name wins
    assert (req.database, req.default_format, req.query_id) == ("sf", "JSON", "q1")
    assert req.accept_encoding == "gzip"
    by_header = request.parse(
        "POST", [], {"x-clickhouse-database": "d", "x-clickhouse-format": "Native"}, b"SELECT 1"
    )
    assert (by_header.database, by_header.default_format) == ("d", "Native")
    assert request.parse("POST", [], {}, b"SELECT 1").query_id  # made up when not given


def test_the_token_is_the_password_whichever_way_it_comes() -> None:
    basic = base64.b64encode(b"grafana:tok1").decode()
    assert request.parse("POST", [], {"authorization": f"Basic {basic}"}, b"").token == "tok1"
    assert request.parse("POST", [], {"authorization": f"Basic {basic}"}, b"").user == "grafana"
    assert request.parse("POST", [], {"x-clickhouse-key": "tok2"}, b"").token == "tok2"
    assert request.parse("POST", [], {"authorization": "Bearer tok3"}, b"").token == "tok3"
    assert request.parse("POST", [("password", "tok4")], {}, b"").token == "tok4"
    assert request.parse("POST", [], {}, b"").token is None
    with pytest.raises(ClickHouseHTTPError):
        request.parse("POST", [], {"authorization": "Basic !!!"}, b"")


def test_multipart_forms_carry_the_query_and_long_parameters() -> None:
    # what clickhouse-connect (urllib3) sends when bound parameters are long
    ids = "[" + ",".join(f"'id{i}'" for i in range(2000)) + "]"
    body, ctype = encode_multipart_formdata(
        {"query": "SELECT 1 WHERE 'x' IN {v:Array(String)}\n FORMAT Native", "param_v": ids}
    )
    req = request.parse("POST", [("database", "sf")], {"content-type": ctype}, body)
    assert req.query == b"SELECT 1 WHERE 'x' IN {v:Array(String)}\n FORMAT Native\n"
    assert req.params == {"v": ids}
    external, ctype2 = encode_multipart_formdata({"t": ("t.tsv", b"1\n")})
    with pytest.raises(ClickHouseHTTPError) as err:
        request.parse("POST", [], {"content-type": ctype2}, external)
    assert err.value.code == 48 and err.value.status == 501


def test_clickhouses_own_block_compression_is_refused_with_a_way_out() -> None:
    with pytest.raises(ClickHouseHTTPError) as err:
        request.parse("POST", [("decompress", "1")], {}, b"")
    assert err.value.status == 501 and "Content-Encoding" in str(err.value)


def test_request_bodies_decompress_as_clients_compress_them() -> None:
    data = b"INSERT INTO t FORMAT Native\n" + bytes(range(256)) * 50
    # clickhouse-connect makes one lz4 frame per block
    lz4_body = Lz4Compressor().compress_block(data[:3000]) + Lz4Compressor().compress_block(
        data[3000:]
    )
    assert request.decode_body(lz4_body, "lz4") == data
    half = len(data) // 2
    assert (
        request.decode_body(gzip.compress(data[:half]) + gzip.compress(data[half:]), "gzip") == data
    )
    assert request.decode_body(zlib.compress(data), "deflate") == data
    assert request.decode_body(request.encode_body(data, "zstd"), "zstd") == data
    assert request.decode_body(data, "identity") == data
    with pytest.raises(ClickHouseHTTPError) as err:
        request.decode_body(data, "br")
    assert err.value.code == 89
    with pytest.raises(ClickHouseHTTPError) as err:
        request.decode_body(lz4.frame.compress(data)[:-9], "lz4")
    assert err.value.code == 271


def test_answers_compress_the_first_way_the_client_accepts() -> None:
    assert request.response_encoding("lz4,zstd,br,gzip,deflate", True) == "lz4"
    assert request.response_encoding("br, gzip;q=0.5, deflate", True) == "gzip"
    assert request.response_encoding("gzip;q=0, deflate", True) == "deflate"
    assert request.response_encoding("gzip", False) is None
    assert request.response_encoding("br", True) is None
    for enc in request.RESPONSE_ENCODINGS:
        assert request.decode_body(request.encode_body(b"x" * 1000, enc), enc) == b"x" * 1000


def test_chdb_errors_become_clickhouse_errors() -> None:
    err = from_engine("Code: 60. DB::Exception: Table sf.x does not exist. (UNKNOWN_TABLE)")
    assert (err.code, err.name, err.status) == (60, "UNKNOWN_TABLE", 404)
    assert str(err) == "Table sf.x does not exist."
    twice = from_engine(
        "Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify 'readonly' setting "
        "in readonly mode. (READONLY) (version 26.9.2.1). (READONLY)"
    )
    assert (twice.code, twice.name, twice.status) == (164, "READONLY", 403)
    assert str(twice) == "Cannot modify 'readonly' setting in readonly mode."
    odd = from_engine("something else")
    assert (odd.code, odd.status) == (1002, 500)
    assert [http_status(c) for c in (516, 497, 62, 81, 396, 159, 48)] == [
        401,
        403,
        400,
        404,
        400,
        400,
        501,
    ]
