CREATE TABLE `idea_status_counts` (
	`status` text PRIMARY KEY NOT NULL,
	`ideas` integer DEFAULT 0 NOT NULL,
	`processing_ms_total` integer DEFAULT 0 NOT NULL,
	`processing_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ideas_completed_time_idx` ON `ideas` (`processing_time_ms`) WHERE status = 'completed' AND processing_time_ms IS NOT NULL;