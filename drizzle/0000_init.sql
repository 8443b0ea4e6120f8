CREATE TABLE `health_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`service` text NOT NULL,
	`status` text NOT NULL,
	`latency_ms` real,
	`details` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `health_logs_created_idx` ON `health_logs` (`created_at`);--> statement-breakpoint
CREATE INDEX `health_logs_service_created_idx` ON `health_logs` (`service`,`created_at`);--> statement-breakpoint
CREATE TABLE `ideas` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text NOT NULL,
	`user_input` text NOT NULL,
	`generated_spec` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`template` text NOT NULL,
	`generator` text NOT NULL,
	`model` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error_code` text,
	`error_message` text,
	`processing_time_ms` integer,
	`output_length` integer DEFAULT 0 NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`idempotency_key` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ideas_job_id_unique` ON `ideas` (`job_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `ideas_idempotency_key_unique` ON `ideas` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `ideas_created_idx` ON `ideas` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `ideas_status_created_idx` ON `ideas` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `performance_metrics` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`route` text NOT NULL,
	`method` text NOT NULL,
	`status_code` integer NOT NULL,
	`duration_ms` real NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `performance_metrics_created_idx` ON `performance_metrics` (`created_at`);--> statement-breakpoint
CREATE INDEX `performance_metrics_route_created_idx` ON `performance_metrics` (`route`,`created_at`);