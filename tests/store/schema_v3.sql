-- A dnssecmon schema version 3 database: the version 2 fixture
-- (schema_v2.sql) taken through dnssecmon's 2 -> 3 migration, as a
-- version 3 dnssecmon left it (one KSK rotation open on fixture.test; its
-- source is the DNS itself, so no DNS host's DS in the host_ columns).
--
-- Kept unchanged on purpose: tests/unit/test_store.c loads it and lets
-- today's store_open() migrate it forward. Do not regenerate it.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE alert_candidates (
  domain_id  INTEGER NOT NULL REFERENCES domains(id),
  code       TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  checks     INTEGER NOT NULL,
  PRIMARY KEY (domain_id, code)
);
CREATE TABLE alert_sinks (
  name         TEXT PRIMARY KEY,
  transitions  TEXT NOT NULL,
  created      INTEGER NOT NULL,
  last_started INTEGER NOT NULL,
  first_outbox INTEGER NOT NULL,
  done_upto    INTEGER NOT NULL
);
CREATE TABLE alerts (
  id            INTEGER PRIMARY KEY,
  domain_id     INTEGER NOT NULL REFERENCES domains(id),
  code          TEXT NOT NULL,
  state         TEXT NOT NULL
                  CHECK (state IN ('firing', 'escalated', 'resolved')),
  severity      TEXT NOT NULL,
  first_fired   INTEGER NOT NULL,
  last_notified INTEGER,
  resolved_at   INTEGER,
  message       TEXT NOT NULL
, last_seen INTEGER);
CREATE TABLE deliveries (
  outbox_id    INTEGER NOT NULL REFERENCES outbox(id),
  sink         TEXT NOT NULL,
  delivered_at INTEGER,
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT, failed_at INTEGER, output TEXT,
  PRIMARY KEY (outbox_id, sink)
);
CREATE TABLE domains (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  first_seen      INTEGER NOT NULL,
  last_checked    INTEGER,
  last_state      TEXT,
  last_severity   TEXT,
  last_validation TEXT
);
INSERT INTO domains VALUES(1,'fixture.test',1764547200,1764550800,'rotation_pending','warning','secure');
CREATE TABLE ds (
  id          INTEGER PRIMARY KEY,
  domain_id   INTEGER NOT NULL REFERENCES domains(id),
  key_tag     INTEGER NOT NULL,
  algorithm   INTEGER NOT NULL,
  digest_type INTEGER NOT NULL,
  digest      BLOB NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  arrived     INTEGER NOT NULL CHECK (arrived IN (0, 1)),
  UNIQUE (domain_id, key_tag, algorithm, digest_type, digest)
);
INSERT INTO ds VALUES(1,1,832,8,2,X'd3c54a5f42371f13b7a58408a2e8494c566d44121df208343b03695604b59f55',1764547200,1764550800,0);
CREATE TABLE keys (
  id                 INTEGER PRIMARY KEY,
  domain_id          INTEGER NOT NULL REFERENCES domains(id),
  key_tag            INTEGER NOT NULL,
  algorithm          INTEGER NOT NULL,
  flags              INTEGER NOT NULL,
  rdata              BLOB NOT NULL,
  first_seen         INTEGER NOT NULL,
  last_seen          INTEGER NOT NULL,
  signing_first_seen INTEGER,
  ds_first_seen      INTEGER,
  UNIQUE (domain_id, rdata)
);
INSERT INTO keys VALUES(1,1,832,8,257,X'01010308039cbbdaf91837567594b3d2f1102f4e6d8cabcae90827466584a3c2e1001f3e5d7c9bbad9f81736557493b2d1f00f2e4d6c8baac9e80726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e70625446382a1c0dffe1d3c5b7a99b8d7f61534537291b0cfee0d2c4b6a89a8c7e60524436281a0bfdefd1c3b5a7998b7d6f51433527190afceed0c2b4a6988a7c6e504234261809fbeddfc1b3a597897b6d5f4133251708faecdec0b2a496887a6c5e4032241607f9ebddcfb1a39587796b5d4f31231506f8eadcceb0a29486786a5c4e30221405f7e9dbcdbfa1938577695b4d3f211304f6e8daccbea0928476685a4c3e201203f5e7d9cbbda',1764547200,1764550800,1764547200,1764547200);
INSERT INTO keys VALUES(2,1,50370,8,256,X'01000308035e7d9cbbdaf91837567594b3d2f1102f4e6d8cabcae90827466584a3c2e1001f3e5d7c9bbad9f81736557493b2d1f00f2e4d6c8baac9e80726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e70625446382a1c0dffe1d3c5b7a99b8d7f61534537291b0cfee0d2c4b6a89a8c7e60524436281a0bfdefd1c3b5a7998b7d6f51433527190afceed0c2b4a6988a7c6e504234261809fbeddfc1b3a597897b6d5f4133251708faecdec0b2a496887a6c5e4032241607f9ebddcfb1a39587796b5d4f31231506f8eadcceb0a29486786a5c4e30221405f7e9dbcdbfa1938577695b4d3f211304f6e8daccbea0928476685a4c3e201203f5e7d9c',1764547200,1764550800,NULL,NULL);
INSERT INTO keys VALUES(3,1,25729,8,257,X'0101030803fd1c3bda7998b7d6f51433527190afceed0c2b4a6988a7c6e504234261809fbeddfc1b3a597897b6d5f4133251708faecdec0b2a496887a6c5e4032241607f9ebddcfb1a39587796b5d4f31231506f8eadcceb0a29486786a5c4e30221405f7e9dbcdbfa1938577695b4d3f211304f6e8daccbea0928476685a4c3e201203f5e7d9cbbdaf91837567594b3d2f1102f4e6d8cabcae90827466584a3c2e1001f3e5d7c9bbad9f81736557493b2d1f00f2e4d6c8baac9e80726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e70625446382a1c0dffe1d3c5b7a99b8d7f61534537291b0cfee0d2c4b6a89a8c7e60524436281a0bfdefd1c3b',1764550800,1764550800,1764550800,NULL);
CREATE TABLE observations (
  id           INTEGER PRIMARY KEY,
  domain_id    INTEGER NOT NULL REFERENCES domains(id),
  time         INTEGER NOT NULL,
  severity     TEXT NOT NULL,
  validation   TEXT NOT NULL,
  state        TEXT NOT NULL,
  problems     TEXT NOT NULL,
  resolvers    TEXT NOT NULL,
  servers      TEXT NOT NULL,
  state_change INTEGER NOT NULL CHECK (state_change IN (0, 1)),
  json         TEXT
);
INSERT INTO observations VALUES(1,1,1764547200,'ok','secure','stable','[]','[{"address":"192.0.2.99","status":"ok","rcode":"NOERROR","ad":true,"latency_ms":0.0}]','[{"name":"ns1.fixture.test","address":"192.0.2.1","status":"ok","soa_serial":1764547200,"dnskey_tags":[832,50370]}]',1,'{"domain":"fixture.test","parent":"test","checked_at":"2025-12-01T00:00:00Z","severity":"ok","validation":"secure","validation_reason":null,"rotation":{"state":"stable"},"problems":[],"delegated":true,"ds_ttl":3600,"ds":[{"key_tag":832,"algorithm":8,"digest_type":2,"digest":"D3C54A5F42371F13B7A58408A2E8494C566D44121DF208343B03695604B59F55","record":"fixture.test. IN DS 832 8 2 D3C54A5F42371F13B7A58408A2E8494C566D44121DF208343B03695604B59F55","matches_key":true,"stale":false}],"dnskeys":[{"key_tag":832,"flags":257,"algorithm":8,"role":"ksk","signs_dnskey_rrset":true,"has_ds":true,"in_cds":false,"needs_ds":false,"servers":["192.0.2.1"]},{"key_tag":50370,"flags":256,"algorithm":8,"role":"zsk","signs_dnskey_rrset":false,"has_ds":false,"in_cds":false,"needs_ds":false,"servers":["192.0.2.1"]}],"cds":[],"ds_to_publish":[],"ds_to_remove":[],"resolvers":[{"address":"192.0.2.99","status":"ok","rcode":"NOERROR","ad":true,"latency_ms":0.0,"ede":null,"ede_text":null}],"nameservers":[{"name":"ns1.fixture.test","address":"192.0.2.1","status":"ok","soa_serial":1764547200,"dnskey_tags":[832,50370],"authoritative":true,"error":null}],"earliest_signature_expiry":null,"queries":0,"duration_ms":0.0}');
INSERT INTO observations VALUES(2,1,1764550800,'warning','secure','rotation_pending','[{"code":"rotation_pending","severity":"warning","message":"A new key signs the DNSKEY RRset but test has no DS for it: add at the registrar, before the DNS host removes the old key: fixture.test. IN DS 25729 8 2 2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30"},{"code":"rotation_deadline","severity":"warning","message":"Add the DS for the new key 25729 at the registrar before 2025-12-08T00:00:00Z (6d 23h left; the DNS host may withdraw the old key from 2025-12-08T01:00:00Z): fixture.test. IN DS 25729 8 2 2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30"}]','[{"address":"192.0.2.99","status":"ok","rcode":"NOERROR","ad":true,"latency_ms":0.0}]','[{"name":"ns1.fixture.test","address":"192.0.2.1","status":"ok","soa_serial":1764550800,"dnskey_tags":[832,25729,50370]}]',1,'{"domain":"fixture.test","parent":"test","checked_at":"2025-12-01T01:00:00Z","severity":"warning","validation":"secure","validation_reason":null,"rotation":{"state":"rotation_pending"},"problems":[{"code":"rotation_pending","severity":"warning","message":"A new key signs the DNSKEY RRset but test has no DS for it: add at the registrar, before the DNS host removes the old key: fixture.test. IN DS 25729 8 2 2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30"},{"code":"rotation_deadline","severity":"warning","message":"Add the DS for the new key 25729 at the registrar before 2025-12-08T00:00:00Z (6d 23h left; the DNS host may withdraw the old key from 2025-12-08T01:00:00Z): fixture.test. IN DS 25729 8 2 2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30"}],"delegated":true,"ds_ttl":3600,"ds":[{"key_tag":832,"algorithm":8,"digest_type":2,"digest":"D3C54A5F42371F13B7A58408A2E8494C566D44121DF208343B03695604B59F55","record":"fixture.test. IN DS 832 8 2 D3C54A5F42371F13B7A58408A2E8494C566D44121DF208343B03695604B59F55","matches_key":true,"stale":false}],"dnskeys":[{"key_tag":832,"flags":257,"algorithm":8,"role":"ksk","signs_dnskey_rrset":true,"has_ds":true,"in_cds":false,"needs_ds":false,"servers":["192.0.2.1"]},{"key_tag":25729,"flags":257,"algorithm":8,"role":"ksk","signs_dnskey_rrset":true,"has_ds":false,"in_cds":false,"needs_ds":true,"servers":["192.0.2.1"]},{"key_tag":50370,"flags":256,"algorithm":8,"role":"zsk","signs_dnskey_rrset":false,"has_ds":false,"in_cds":false,"needs_ds":false,"servers":["192.0.2.1"]}],"cds":[],"ds_to_publish":[{"key_tag":25729,"algorithm":8,"digest_type":2,"digest":"2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30","record":"fixture.test. IN DS 25729 8 2 2D9CC8C395200AFC098D37AC40B3A3807B629D309EF663B30AFA3E9025913F30"}],"ds_to_remove":[],"resolvers":[{"address":"192.0.2.99","status":"ok","rcode":"NOERROR","ad":true,"latency_ms":0.0,"ede":null,"ede_text":null}],"nameservers":[{"name":"ns1.fixture.test","address":"192.0.2.1","status":"ok","soa_serial":1764550800,"dnskey_tags":[832,25729,50370],"authoritative":true,"error":null}],"earliest_signature_expiry":null,"queries":0,"duration_ms":0.0}');
CREATE TABLE outbox (
  id       INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  created  INTEGER NOT NULL,
  payload  TEXT NOT NULL
, transition TEXT NOT NULL
  DEFAULT 'firing' CHECK (transition IN
  ('firing', 'escalated', 'reminder', 'resolved')));
CREATE TABLE rotations (
  id                 INTEGER PRIMARY KEY,
  domain_id          INTEGER NOT NULL REFERENCES domains(id),
  kind               TEXT NOT NULL CHECK (kind IN ('ksk', 'zsk')),
  source             TEXT NOT NULL,
  start              INTEGER NOT NULL,
  deadline           INTEGER,
  registrar_deadline INTEGER,
  ds_ttl             INTEGER,
  window_s           INTEGER,
  new_key_tag        INTEGER NOT NULL,
  new_key_alg        INTEGER NOT NULL,
  new_key_rdata      BLOB,
  old_key_tags       TEXT NOT NULL DEFAULT '[]',
  ds_updated_at      INTEGER,
  completed_at       INTEGER,
  outcome            TEXT CHECK (outcome IN
                       ('completed', 'broken', 'abandoned')),
  external_id        TEXT UNIQUE
, host_key_tag INTEGER, host_algorithm INTEGER, host_digest_type INTEGER, host_digest BLOB);
INSERT INTO rotations VALUES(1,1,'ksk','dns',1764550800,1765155600,1765152000,3600,604800,25729,8,X'0101030803fd1c3bda7998b7d6f51433527190afceed0c2b4a6988a7c6e504234261809fbeddfc1b3a597897b6d5f4133251708faecdec0b2a496887a6c5e4032241607f9ebddcfb1a39587796b5d4f31231506f8eadcceb0a29486786a5c4e30221405f7e9dbcdbfa1938577695b4d3f211304f6e8daccbea0928476685a4c3e201203f5e7d9cbbdaf91837567594b3d2f1102f4e6d8cabcae90827466584a3c2e1001f3e5d7c9bbad9f81736557493b2d1f00f2e4d6c8baac9e80726456483a2c1e0ff1e3d5c7b9ab9d8f71635547392b1d0ef0e2d4c6b8aa9c8e70625446382a1c0dffe1d3c5b7a99b8d7f61534537291b0cfee0d2c4b6a89a8c7e60524436281a0bfdefd1c3b','[832]',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE INDEX observations_domain_time ON observations(domain_id, time);
CREATE INDEX observations_prunable ON observations(time)
  WHERE state_change = 0;
CREATE UNIQUE INDEX rotations_open ON rotations(domain_id, kind)
  WHERE outcome IS NULL;
CREATE INDEX rotations_start ON rotations(start);
CREATE INDEX outbox_alert ON outbox(alert_id);
CREATE INDEX deliveries_pending ON deliveries(sink)
  WHERE delivered_at IS NULL;
CREATE UNIQUE INDEX alerts_open ON alerts(domain_id, code)
  WHERE state != 'resolved';
CREATE INDEX alerts_resolved ON alerts(resolved_at);
COMMIT;
PRAGMA application_id = 1684960109;
PRAGMA user_version = 3;
