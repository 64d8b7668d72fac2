-- Each streamed row carries the deduplication token of the block it came in.
-- A batch is written one month block at a time; a crash between blocks leaves
-- some months written and others not, at offsets that interleave. Resume then
-- re-inserts exactly the blocks that exist, under their own tokens (healing any
-- view that missed one), and reads the batch again from the checkpoint: events
-- already written are known to the seen store, the rest are written. '' = a row
-- from before this migration (its token is re-derived the old way).
ALTER TABLE ntjp_calls ADD COLUMN IF NOT EXISTS batch_token String DEFAULT '';
ALTER TABLE sob_transactions ADD COLUMN IF NOT EXISTS batch_token String DEFAULT '';
ALTER TABLE etj_cases ADD COLUMN IF NOT EXISTS batch_token String DEFAULT '';
ALTER TABLE etj_logins ADD COLUMN IF NOT EXISTS batch_token String DEFAULT '';
