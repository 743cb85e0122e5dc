CREATE TABLE "audit_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"seq" bigint,
	"leaf_hash" text,
	"at" timestamp (3) with time zone NOT NULL,
	"request_id" text NOT NULL,
	"actor_partner" text,
	"actor_sub" text,
	"actor_role" text,
	"action" text NOT NULL,
	"subject" text,
	"purpose" text,
	"case_ref" text,
	"outcome" text NOT NULL,
	"rule" text,
	"covenant_version" text NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"root" text NOT NULL,
	"issued_at" timestamp (3) with time zone NOT NULL,
	"kid" text NOT NULL,
	"jws" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"root" text NOT NULL,
	"frontier" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"recipient" text NOT NULL,
	"recipient_registration_id" uuid NOT NULL,
	"registration_id" uuid NOT NULL,
	"rule" text NOT NULL,
	"covenant_version" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registrations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"partner" text NOT NULL,
	"subject" text NOT NULL,
	"key_version" integer NOT NULL,
	"category" text NOT NULL,
	"contact" jsonb NOT NULL,
	"reference" text,
	"registered_by" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"end_reason" text
);
--> statement-breakpoint
CREATE TABLE "used_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"partner" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_entries_seq_uq" ON "audit_entries" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_entries_unsequenced_idx" ON "audit_entries" USING btree ("id") WHERE seq is null;--> statement-breakpoint
CREATE INDEX "audit_entries_subject_idx" ON "audit_entries" USING btree ("subject");--> statement-breakpoint
CREATE UNIQUE INDEX "matches_pair_uq" ON "matches" USING btree ("recipient_registration_id","registration_id");--> statement-breakpoint
CREATE INDEX "matches_recipient_idx" ON "matches" USING btree ("recipient","id");--> statement-breakpoint
CREATE UNIQUE INDEX "registrations_active_uq" ON "registrations" USING btree ("partner","subject","category") WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX "registrations_subject_idx" ON "registrations" USING btree ("subject");--> statement-breakpoint
CREATE INDEX "registrations_expires_idx" ON "registrations" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "used_tokens_expires_idx" ON "used_tokens" USING btree ("expires_at");