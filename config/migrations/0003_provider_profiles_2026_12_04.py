"""Provider profiles, release 2026-12-04: the capability facts config.provider_profiles serves.

The data is frozen here, not imported: this migration deploys exactly these rows forever, even
after config/providers/profiles/ gains a newer release (which ships with its own migration).
tests/config/test_profiles.py checks this copy equals config/providers/profiles/2026-12-04.json.
PostgreSQL decodes the JSON, so the migration imports nothing but Django. Re-running is
idempotent: an unchanged row is not touched, so its version does not move.
"""

from django.db import migrations

RELEASE = "2026-12-04"

UPSERT = """
    INSERT INTO config.provider_profiles (name, provider, capabilities)
    SELECT p ->> 'name', p ->> 'provider',
           (p -> 'capabilities') || jsonb_build_object('release', r.doc ->> 'release')
      FROM (SELECT %s::jsonb AS doc) r, jsonb_array_elements(r.doc -> 'profiles') p
    ON CONFLICT (name) DO UPDATE
       SET provider = EXCLUDED.provider, capabilities = EXCLUDED.capabilities
     WHERE (config.provider_profiles.provider, config.provider_profiles.capabilities)
           IS DISTINCT FROM (EXCLUDED.provider, EXCLUDED.capabilities)
"""

UNLOAD = """
    DELETE FROM config.provider_profiles p
     WHERE p.name IN (SELECT e ->> 'name' FROM jsonb_array_elements(%s::jsonb -> 'profiles') e)
       AND p.capabilities ->> 'release' = %s
       -- Selection rules point at profiles (PROTECT): referenced rows stay.
       AND NOT EXISTS (SELECT 1 FROM config.selection_rules r WHERE r.provider_profile_id = p.id)
"""


def load(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute(UPSERT, [PROFILES_JSON])


def unload(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute(UNLOAD, [PROFILES_JSON, RELEASE])


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0002_transaction_clock"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]


PROFILES_JSON = r"""{
 "profiles": [
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "Branching is a paid-plan feature. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/deployment/branching",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "SOC 2 reports and HIPAA are for Team/Enterprise plans, not Free. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/security",
      "value": [],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": {
       "base_usd_month": 0,
       "basis": "Free plan, 2 projects",
       "model": "free-tier"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "hypopg is listed in the research (guardian-anchors.md section 7); pgaudit and pg_partman availability not checked. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/extensions",
      "value": {
       "hypopg": true,
       "pg_partman": false,
       "pg_stat_statements": true,
       "pgaudit": false
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": false,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-04",
      "note": "Supavisor client connections on the smallest compute; General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": 200,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "500 MB database on Free. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": {
       "failover_seconds": null,
       "max_read_replicas": 0,
       "max_storage_tib": 0.0005
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "No PITR on Free (PITR is a paid add-on per the research). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/platform/backups",
      "value": 0,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": [
       {
        "host": "db.<ref>.supabase.co",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "aws-<n>-<region>.pooler.supabase.com",
        "port": 5432,
        "variant": "session pooler"
       },
       {
        "host": "aws-<n>-<region>.pooler.supabase.com",
        "port": 6543,
        "variant": "transaction pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": [
       15,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": false,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "Supabase runs on AWS regions; list abbreviated. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/platform/regions",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-1",
       "us-west-2",
       "ca-central-1",
       "sa-east-1",
       "eu-west-1",
       "eu-west-2",
       "eu-west-3",
       "eu-central-1",
       "eu-north-1",
       "ap-south-1",
       "ap-southeast-1",
       "ap-southeast-2",
       "ap-northeast-1",
       "ap-northeast-2"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "Plain PostgreSQL RLS; Supabase builds its auth on it. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "Free projects pause after a week of inactivity; that is not per-request scale to zero. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Supabase Free",
    "schema": 1
   },
   "name": "supabase-free",
   "provider": "supabase"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/deployment/branching",
      "value": true,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "SOC 2 report access from Team; HIPAA with a BAA on Team/Enterprise. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/security",
      "value": [],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": {
       "base_usd_month": 25,
       "basis": "Pro plan base with the included Micro compute credit",
       "model": "subscription+usage"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "hypopg from the research; pgaudit and pg_partman believed listed. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/extensions",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": false,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-04",
      "note": "Supavisor client limit of the Small compute add-on. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": 400,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Read replicas as add-ons; no automatic failover on Pro. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": {
       "failover_seconds": null,
       "max_read_replicas": 2,
       "max_storage_tib": 60
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "Daily backups kept 7 days on Pro (research); PITR itself is a paid add-on (7/14/28 days). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/platform/backups",
      "value": 7,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": [
       {
        "host": "db.<ref>.supabase.co",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "aws-<n>-<region>.pooler.supabase.com",
        "port": 5432,
        "variant": "session pooler"
       },
       {
        "host": "aws-<n>-<region>.pooler.supabase.com",
        "port": 6543,
        "variant": "transaction pooler"
       },
       {
        "host": "db.<ref>.supabase.co (dedicated PgBouncer)",
        "port": 6543,
        "variant": "transaction pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": [
       15,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "PrivateLink is not offered on Pro. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/database/connecting-to-postgres",
      "value": false,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "Supabase runs on AWS regions; list abbreviated. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/docs/guides/platform/regions",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-1",
       "us-west-2",
       "ca-central-1",
       "sa-east-1",
       "eu-west-1",
       "eu-west-2",
       "eu-west-3",
       "eu-central-1",
       "eu-north-1",
       "ap-south-1",
       "ap-southeast-1",
       "ap-southeast-2",
       "ap-northeast-1",
       "ap-northeast-2"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "Plain PostgreSQL RLS. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://supabase.com/pricing",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Supabase Pro",
    "schema": 1
   },
   "name": "supabase-pro",
   "provider": "supabase"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-01",
      "note": "Copy-on-write branches with instant restore. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/branching",
      "value": true,
      "verified": true
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "SOC 2 / HIPAA apply to paid plans. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/security/compliance",
      "value": [],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/pricing",
      "value": {
       "base_usd_month": 0,
       "basis": "Free plan",
       "model": "free-tier"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/extensions/pg-extensions",
      "value": {
       "hypopg": true,
       "pg_partman": false,
       "pg_stat_statements": true,
       "pgaudit": false
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": false,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": 10000,
      "verified": true
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/pricing",
      "value": {
       "failover_seconds": null,
       "max_read_replicas": 0,
       "max_storage_tib": 0.0005
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-01",
      "note": "History window 6 h on Free (capped at 1 GB). Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/history-window",
      "value": 0.25,
      "verified": true
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "PgBouncer in transaction mode on the -pooler host; migrations must use the direct host. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": [
       {
        "host": "ep-<name>-<id>.<region>.aws.neon.tech",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "ep-<name>-<id>-pooler.<region>.aws.neon.tech",
        "port": 5432,
        "variant": "transaction pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/introduction/regions",
      "value": [
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/guides/neon-private-networking",
      "value": false,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-01",
      "note": "8 AWS regions (research counted 8 AWS + 3 Azure; the Azure ones are left out because the Azure Native integration ends 31 Jan 2026). Region names are this file's assumption. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine. Unverified after review: the regions page was not among the research's sources; not re-read here.",
      "source": "https://neon.com/docs/introduction/regions",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-2",
       "eu-central-1",
       "eu-west-2",
       "ap-southeast-1",
       "ap-southeast-2",
       "sa-east-1"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "Plain PostgreSQL RLS. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-01",
      "note": "Suspends after 5 minutes idle; Free cannot disable it. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/scale-to-zero",
      "value": true,
      "verified": true
     }
    },
    "hosting": "managed",
    "label": "Neon Free",
    "schema": 1
   },
   "name": "neon-free",
   "provider": "neon"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/branching",
      "value": true,
      "verified": true
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "SOC 2 Type 2 and HIPAA (with a BAA) on Scale; no PCI DSS attestation known. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/security/compliance",
      "value": [
       "soc2",
       "hipaa"
      ],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/pricing",
      "value": {
       "base_usd_month": 69,
       "basis": "Scale plan base, compute billed per CU-hour on top",
       "model": "subscription+usage"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "pgaudit believed unavailable on Neon. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/extensions/pg-extensions",
      "value": {
       "hypopg": true,
       "pg_partman": false,
       "pg_stat_statements": true,
       "pgaudit": false
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": false,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": 10000,
      "verified": true
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Read replicas share storage; no numbers checked. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/pricing",
      "value": {
       "failover_seconds": null,
       "max_read_replicas": 5,
       "max_storage_tib": 4
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-01",
      "note": "Scale: 1 day default, 30 days max. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/history-window",
      "value": 30,
      "verified": true
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/connect/connection-pooling",
      "value": [
       {
        "host": "ep-<name>-<id>.<region>.aws.neon.tech",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "ep-<name>-<id>-pooler.<region>.aws.neon.tech",
        "port": 5432,
        "variant": "transaction pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/introduction/regions",
      "value": [
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "AWS PrivateLink on the Scale/Business plans. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://neon.com/docs/guides/neon-private-networking",
      "value": true,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-01",
      "note": "Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine. Unverified after review: the regions page was not among the research's sources; not re-read here.",
      "source": "https://neon.com/docs/introduction/regions",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-2",
       "eu-central-1",
       "eu-west-2",
       "ap-southeast-1",
       "ap-southeast-2",
       "sa-east-1"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "Plain PostgreSQL RLS. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-01",
      "note": "Configurable on paid plans, computes up to 16 CU. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://neon.com/docs/introduction/scale-to-zero",
      "value": true,
      "verified": true
     }
    },
    "hosting": "managed",
    "label": "Neon Scale",
    "schema": 1
   },
   "name": "neon-scale",
   "provider": "neon"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "No copy-on-write branches; snapshots and restores only. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "RDS is in scope for SOC, PCI DSS and HIPAA eligibility (a BAA with AWS is needed). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://aws.amazon.com/compliance/services-in-scope/",
      "value": [
       "soc2",
       "pci",
       "hipaa"
      ],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://aws.amazon.com/rds/postgresql/pricing/",
      "value": {
       "base_usd_month": 232,
       "basis": "db.m6g.large Multi-AZ on-demand, us-east-1, storage excluded",
       "model": "instance-hourly"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-extensions.html",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html",
      "value": true,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-04",
      "note": "max_connections = LEAST(DBInstanceClassMemory/9531392, 5000) per public gists (research marks it 'verify'); RDS Proxy can multiplex more. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html",
      "value": 5000,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Up to 15 read replicas; Multi-AZ instance failover typically 60-120 s; 64 TiB storage. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html",
      "value": {
       "failover_seconds": 60,
       "max_read_replicas": 15,
       "max_storage_tib": 64
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "Automated backups with PITR up to 35 days (research marks it 'verify on the AWS page'). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
      "value": 35,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html",
      "value": [
       {
        "host": "<id>.<hash>.<region>.rds.amazonaws.com",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "<proxy>.proxy-<hash>.<region>.rds.amazonaws.com",
        "port": 5432,
        "variant": "proxy"
       }
      ],
      "verified": false
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-versions.html",
      "value": [
       13,
       14,
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.html",
      "value": true,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "All commercial AWS regions; list abbreviated to the ones this file maps. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RegionsAndAvailabilityZones.html",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-1",
       "us-west-2",
       "ca-central-1",
       "sa-east-1",
       "eu-west-1",
       "eu-west-2",
       "eu-west-3",
       "eu-central-1",
       "eu-north-1",
       "ap-south-1",
       "ap-southeast-1",
       "ap-southeast-2",
       "ap-northeast-1",
       "ap-northeast-2"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://aws.amazon.com/rds/postgresql/pricing/",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Amazon RDS for PostgreSQL",
    "schema": 1
   },
   "name": "aws-rds",
   "provider": "aws-rds"
  },
  {
   "capabilities": {
    "fields": {
     "autoscaling": {
      "as_of": "2026-12-04",
      "note": "Aurora Serverless v2 scales compute with load. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.html",
      "value": true,
      "verified": false
     },
     "branching": {
      "as_of": "2026-12-04",
      "note": "Fast clones (copy-on-write) exist but are not branches with a URL per branch. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://aws.amazon.com/compliance/services-in-scope/",
      "value": [
       "soc2",
       "pci",
       "hipaa"
      ],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://aws.amazon.com/rds/aurora/pricing/",
      "value": {
       "base_usd_month": 380,
       "basis": "two db.r6g.large (writer + reader for failover), us-east-1, I/O and storage excluded",
       "model": "instance-hourly+io"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-extensions.html",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html",
      "value": true,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/CHAP_Limits.html",
      "value": 5000,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-01",
      "note": "Up to 15 replicas behind the reader endpoint (research, verified at the source); failover ~30 s and 128 TiB storage are unverified. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine. Unverified after review: the endpoints page gives the 15 replicas; the failover and storage figures are not from it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.Endpoints.html",
      "value": {
       "failover_seconds": 30,
       "max_read_replicas": 15,
       "max_storage_tib": 128
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
      "value": 35,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Writer, reader and custom endpoints from the Aurora endpoints doc; the proxy shape is unverified. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.Endpoints.html",
      "value": [
       {
        "host": "<cluster>.cluster-<hash>.<region>.rds.amazonaws.com",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "<cluster>.cluster-ro-<hash>.<region>.rds.amazonaws.com",
        "port": 5432,
        "variant": "reader"
       },
       {
        "host": "<proxy>.proxy-<hash>.<region>.rds.amazonaws.com",
        "port": 5432,
        "variant": "proxy"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/Welcome.html",
      "value": [
       13,
       14,
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.html",
      "value": true,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RegionsAndAvailabilityZones.html",
      "value": [
       "us-east-1",
       "us-east-2",
       "us-west-1",
       "us-west-2",
       "ca-central-1",
       "sa-east-1",
       "eu-west-1",
       "eu-west-2",
       "eu-west-3",
       "eu-central-1",
       "eu-north-1",
       "ap-south-1",
       "ap-southeast-1",
       "ap-southeast-2",
       "ap-northeast-1",
       "ap-northeast-2"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "Serverless v2 autoscales in ACUs; scaling to 0 ACU arrived in late 2024 for some versions. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.html",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Amazon Aurora PostgreSQL",
    "schema": 1
   },
   "name": "aws-aurora",
   "provider": "aws-aurora"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-backup-restore",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/compliance/",
      "value": [
       "soc2",
       "pci",
       "hipaa"
      ],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://azure.microsoft.com/pricing/details/postgresql/flexible-server/",
      "value": {
       "base_usd_month": 260,
       "basis": "General Purpose D2ds_v5 with zone-redundant HA, East US, storage excluded",
       "model": "instance-hourly"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-extensions",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "Microsoft Entra ID authentication. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-azure-ad-authentication",
      "value": true,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-01",
      "note": "PgBouncer max_client_conn default 5000, up to 10,000. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer",
      "value": 5000,
      "verified": true
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Up to 5 read replicas; zone-redundant HA failover 60-120 s; 32 TiB (64 TiB on Premium SSD v2). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-read-replicas",
      "value": {
       "failover_seconds": 120,
       "max_read_replicas": 5,
       "max_storage_tib": 32
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-backup-restore",
      "value": 35,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Built-in PgBouncer 1.25.1 on port 6432 (pgbouncer.enabled=true, no restart), General Purpose and Memory Optimized tiers only. Read at the source during research (guardian-anchors.md section 7); not reproduced on this machine.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer",
      "value": [
       {
        "host": "<server>.postgres.database.azure.com",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "<server>.postgres.database.azure.com",
        "port": 6432,
        "variant": "transaction pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-supported-versions",
      "value": [
       13,
       14,
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private",
      "value": true,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://azure.microsoft.com/explore/global-infrastructure/products-by-region/",
      "value": [
       "eastus",
       "eastus2",
       "westus2",
       "westus3",
       "centralus",
       "canadacentral",
       "brazilsouth",
       "northeurope",
       "westeurope",
       "uksouth",
       "francecentral",
       "germanywestcentral",
       "swedencentral",
       "centralindia",
       "southeastasia",
       "australiaeast",
       "japaneast",
       "koreacentral"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "Servers can be stopped manually (up to 7 days), not scaled to zero on idle. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://azure.microsoft.com/pricing/details/postgresql/flexible-server/",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Azure Database for PostgreSQL Flexible Server",
    "schema": 1
   },
   "name": "azure-flexible",
   "provider": "azure-flexible"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/security/compliance/offerings",
      "value": [
       "soc2",
       "pci",
       "hipaa"
      ],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/pricing",
      "value": {
       "base_usd_month": 250,
       "basis": "Enterprise edition 2 vCPU / 8 GB with HA, us-east4, storage excluded",
       "model": "instance-hourly"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/extensions",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/iam-authentication",
      "value": true,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-04",
      "note": "max_connections depends on memory, up to 4,000 by default flags. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/quotas",
      "value": 4000,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Read replicas; regional HA failover about 60 s; 64 TB storage. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/replication",
      "value": {
       "failover_seconds": 60,
       "max_read_replicas": 10,
       "max_storage_tib": 64
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-04",
      "note": "Enterprise edition: transaction logs kept up to 7 days (35 on Enterprise Plus). General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr",
      "value": 7,
      "verified": false
     },
     "pooling": {
      "as_of": "2026-12-04",
      "note": "Usually no hostname signal: an IP, the Auth Proxy on localhost or a Unix socket (research, verified); managed connection pooling is new and unchecked. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/connect-admin-proxy",
      "value": [
       {
        "host": "<ip> | <name>.<region>.sql.goog (PSC)",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "127.0.0.1 (Cloud SQL Auth Proxy) | /cloudsql/<project>:<region>:<instance>",
        "port": 5432,
        "variant": "proxy"
       }
      ],
      "verified": false
     },
     "postgres_versions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/db-versions",
      "value": [
       13,
       14,
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/private-ip",
      "value": true,
      "verified": false
     },
     "regions": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/docs/postgres/locations",
      "value": [
       "us-east1",
       "us-east4",
       "us-central1",
       "us-west1",
       "northamerica-northeast1",
       "southamerica-east1",
       "europe-west1",
       "europe-west2",
       "europe-west3",
       "europe-west4",
       "europe-north1",
       "asia-south1",
       "asia-southeast1",
       "australia-southeast1",
       "asia-northeast1",
       "asia-northeast3"
      ],
      "verified": false
     },
     "rls": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": false
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://cloud.google.com/sql/pricing",
      "value": false,
      "verified": false
     }
    },
    "hosting": "managed",
    "label": "Google Cloud SQL for PostgreSQL",
    "schema": 1
   },
   "name": "cloud-sql",
   "provider": "cloud-sql"
  },
  {
   "capabilities": {
    "fields": {
     "branching": {
      "as_of": "2026-12-04",
      "note": "No built-in branching; a template database or a filesystem snapshot is your own tooling. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": false,
      "verified": false
     },
     "compliance": {
      "as_of": "2026-12-04",
      "note": "No provider attestation: compliance is the operator's own audit scope. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": [],
      "verified": false
     },
     "cost_model": {
      "as_of": "2026-12-04",
      "note": "A rough VM cost, not a quote. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": {
       "base_usd_month": 150,
       "basis": "one 2 vCPU / 8 GiB VM plus backups; operator time not included",
       "model": "self-operated"
      },
      "verified": false
     },
     "extensions": {
      "as_of": "2026-12-01",
      "note": "Debian packages postgresql-15-pgaudit, -hypopg, -partman and contrib's pg_stat_statements (DESIGN.md: installable on the CI machines). Unverified after review: packaged for Debian, but pgaudit and pg_partman are not installed on this machine.",
      "source": "https://wiki.postgresql.org/wiki/Apt",
      "value": {
       "hypopg": true,
       "pg_partman": true,
       "pg_stat_statements": true,
       "pgaudit": true
      },
      "verified": false
     },
     "iam_auth": {
      "as_of": "2026-12-04",
      "note": "Whatever your own identity system provides (LDAP, Kerberos, certificates); no cloud IAM. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/runtime-config-connection.html",
      "value": false,
      "verified": false
     },
     "max_client_connections": {
      "as_of": "2026-12-01",
      "note": "Whatever you configure; PgBouncer max_client_conn is the ceiling, bounded by file descriptors. Unverified after review: PgBouncer's default max_client_conn is 100; 10,000 is a configuration, not a fact.",
      "source": "https://www.pgbouncer.org/config.html",
      "value": 10000,
      "verified": false
     },
     "performance": {
      "as_of": "2026-12-04",
      "note": "Depends entirely on your hardware and operations. General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": {
       "failover_seconds": null,
       "max_read_replicas": null,
       "max_storage_tib": null
      },
      "verified": false
     },
     "pitr_days": {
      "as_of": "2026-12-01",
      "note": "Unbounded: as long as you keep base backups and WAL (continuous archiving).",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": null,
      "verified": true
     },
     "pooling": {
      "as_of": "2026-12-01",
      "note": "Verified here: PgBouncer 1.x in transaction mode in front of PostgreSQL 15 (tests/security/test_pgbouncer.py).",
      "source": "https://www.pgbouncer.org/config.html",
      "value": [
       {
        "host": "any",
        "port": 5432,
        "variant": "direct"
       },
       {
        "host": "PgBouncer you run (pool_mode = transaction)",
        "port": 6432,
        "variant": "transaction pooler"
       },
       {
        "host": "PgBouncer you run (pool_mode = session, its default)",
        "port": 6432,
        "variant": "session pooler"
       }
      ],
      "verified": true
     },
     "postgres_versions": {
      "as_of": "2026-12-01",
      "note": "Every community-supported major; this machine runs 15 (verified here). Unverified after review: 13 is past end of life and 18 is released: the list needs re-reading.",
      "source": "https://www.postgresql.org/support/versioning/",
      "value": [
       13,
       14,
       15,
       16,
       17
      ],
      "verified": false
     },
     "private_networking": {
      "as_of": "2026-12-01",
      "note": "You choose listen_addresses and the network.",
      "source": "https://www.postgresql.org/docs/15/runtime-config-connection.html",
      "value": true,
      "verified": true
     },
     "regions": {
      "as_of": "2026-12-01",
      "note": "Wherever you run it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": [
       "*"
      ],
      "verified": true
     },
     "rls": {
      "as_of": "2026-12-01",
      "note": "Verified here: the project's own forced RLS runs on PostgreSQL 15.",
      "source": "https://www.postgresql.org/docs/15/ddl-rowsecurity.html",
      "value": true,
      "verified": true
     },
     "scale_to_zero": {
      "as_of": "2026-12-04",
      "note": "General knowledge, not checked against the source in this session: verify before relying on it.",
      "source": "https://www.postgresql.org/docs/15/continuous-archiving.html",
      "value": false,
      "verified": false
     }
    },
    "hosting": "self",
    "label": "Self-hosted PostgreSQL (Docker / Kubernetes / VM)",
    "schema": 1
   },
   "name": "self-hosted",
   "provider": "self-hosted"
  }
 ],
 "release": "2026-12-04",
 "schema": 1
}"""
