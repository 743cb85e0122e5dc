CREATE TABLE "signal_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"signal" text NOT NULL,
	"reviewer" uuid NOT NULL,
	"note" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"id" uuid PRIMARY KEY NOT NULL,
	"partner" text NOT NULL,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"enrolled_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "staff_challenges" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"challenge" text NOT NULL,
	"staff_id" uuid,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"public_key" text NOT NULL,
	"counter" bigint NOT NULL,
	"transports" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "staff_invitations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"used_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "staff_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"credential_id" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "disclosure_decisions" ALTER COLUMN "jws" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosure_decisions" ADD COLUMN "passkey" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "signal_reviews_signal_uq" ON "signal_reviews" USING btree ("signal");--> statement-breakpoint
CREATE INDEX "staff_credentials_staff_idx" ON "staff_credentials" USING btree ("staff_id");--> statement-breakpoint
CREATE UNIQUE INDEX "staff_invitations_secret_uq" ON "staff_invitations" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "staff_sessions_staff_idx" ON "staff_sessions" USING btree ("staff_id");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_sub_idx" ON "audit_entries" USING btree ("actor_sub","id");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_partner_idx" ON "audit_entries" USING btree ("actor_partner","id");--> statement-breakpoint
CREATE INDEX "audit_entries_at_idx" ON "audit_entries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_entries_case_ref_idx" ON "audit_entries" USING btree ("case_ref","id");--> statement-breakpoint
ALTER TABLE "disclosure_decisions" ADD CONSTRAINT "disclosure_decisions_one_proof" CHECK (("jws" IS NULL) <> ("passkey" IS NULL));
