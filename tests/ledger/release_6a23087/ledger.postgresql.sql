


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;




SET default_tablespace = '';

SET default_table_access_method = heap;


CREATE TABLE zw_actions (
    action_id integer NOT NULL,
    at text NOT NULL,
    kind text NOT NULL,
    account text NOT NULL,
    zone_id text,
    instance_id text,
    image_id text,
    image_name text,
    request_id text,
    outcome text NOT NULL,
    who text NOT NULL,
    intent_id character varying(32),
    detail text,
    run_id character varying(32)
);



CREATE SEQUENCE zw_actions_action_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;



ALTER SEQUENCE zw_actions_action_id_seq OWNED BY zw_actions.action_id;



CREATE TABLE zw_intents (
    intent_id character varying(32) NOT NULL,
    account text NOT NULL,
    zone_id text NOT NULL,
    instance_id text NOT NULL,
    image_name text NOT NULL,
    description text,
    is_open boolean NOT NULL,
    outcome text,
    image_id text,
    request_id text,
    status text,
    adopted boolean NOT NULL,
    error_type text,
    error_code text,
    who text NOT NULL,
    owner character varying(32) NOT NULL,
    owner_host text,
    owner_pid integer,
    started_at text NOT NULL,
    updated_at text NOT NULL,
    heartbeat_at text NOT NULL,
    sent_at text,
    attempts integer NOT NULL,
    settle_seconds double precision,
    snapshot json,
    evidence json
);



CREATE TABLE zw_legacy_imports (
    path text NOT NULL,
    imported_at text NOT NULL,
    intents integer NOT NULL
);



CREATE TABLE zw_policy_runs (
    run_id character varying(32) NOT NULL,
    policy text NOT NULL,
    account text NOT NULL,
    name_prefix text NOT NULL,
    stamp text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    outcome text,
    who text NOT NULL,
    owner character varying(32),
    owner_host text,
    owner_pid integer,
    heartbeat_at text
);



CREATE TABLE zw_policy_steps (
    run_id character varying(32) NOT NULL,
    instance_id text NOT NULL,
    policy text NOT NULL,
    account text NOT NULL,
    zone_id text NOT NULL,
    image_name text,
    image_id text,
    state text NOT NULL,
    reason text,
    deleted json,
    updated_at text NOT NULL
);



CREATE TABLE zw_schema_version (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at text NOT NULL
);



CREATE SEQUENCE zw_schema_version_version_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;



ALTER SEQUENCE zw_schema_version_version_seq OWNED BY zw_schema_version.version;



ALTER TABLE ONLY zw_actions ALTER COLUMN action_id SET DEFAULT nextval('zw_actions_action_id_seq'::regclass);



ALTER TABLE ONLY zw_schema_version ALTER COLUMN version SET DEFAULT nextval('zw_schema_version_version_seq'::regclass);



INSERT INTO zw_actions VALUES (1, '2026-12-07T05:22:06.006+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'release-closed', 'T539AB925-3F6D-44C4-88C4-034EC9B9B2D4', 'submitted', 'root@vm', 'afbb109f445f4d8aae8c48b65f5d224b', NULL, NULL);
INSERT INTO zw_actions VALUES (2, '2026-12-07T05:22:06.246+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'release-closed', 'T539AB925-3F6D-44C4-88C4-034EC9B9B2D4', 'available', 'root@vm', 'afbb109f445f4d8aae8c48b65f5d224b', NULL, NULL);
INSERT INTO zw_actions VALUES (3, '2026-12-07T05:22:06.292+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T0522', 'T0B882D88-DFF0-4E80-B2FC-992AAF0E005F', 'submitted', 'root@vm', 'dbd5c84f755d4b51b0a6fbbe2716efee', NULL, 'd1cd7d7052964fe4a70d34b73edaefbe');
INSERT INTO zw_actions VALUES (4, '2026-12-07T05:22:06.517+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T0522', 'T0B882D88-DFF0-4E80-B2FC-992AAF0E005F', 'available', 'root@vm', 'dbd5c84f755d4b51b0a6fbbe2716efee', NULL, 'd1cd7d7052964fe4a70d34b73edaefbe');
INSERT INTO zw_actions VALUES (5, '2026-12-07T05:22:06.603+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'nightly-20261207T0522a', 'TF97E101C-9699-43C5-B6A8-446FA7B409AD', 'submitted', 'root@vm', 'f4339072faf0486cae2c34c191c5f28c', NULL, '9633993d462d484aa70b34e914c2e76f');
INSERT INTO zw_actions VALUES (6, '2026-12-07T05:22:06.824+00:00', 'create', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'nightly-20261207T0522a', 'TF97E101C-9699-43C5-B6A8-446FA7B409AD', 'available', 'root@vm', 'f4339072faf0486cae2c34c191c5f28c', NULL, '9633993d462d484aa70b34e914c2e76f');
INSERT INTO zw_actions VALUES (7, '2026-12-07T05:22:06.844+00:00', 'delete', 'http://emulator-4.localhost', 'HKG-A', NULL, 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T0522', 'T5D8CF672-3AD8-4946-BDCE-A086B8B47D87', 'done', 'root@vm', NULL, NULL, '9633993d462d484aa70b34e914c2e76f');
INSERT INTO zw_actions VALUES (8, '2026-12-07T05:22:06.857+00:00', 'stop', 'http://emulator-4.localhost', 'HKG-A', '1414024560606', NULL, NULL, NULL, 'ok', 'root@vm', NULL, NULL, NULL);
INSERT INTO zw_actions VALUES (9, '2026-12-07T05:22:06.858+00:00', 'start', 'http://emulator-4.localhost', 'HKG-A', '1414024560606', NULL, NULL, NULL, 'planned', 'root@vm', NULL, NULL, NULL);



INSERT INTO zw_intents VALUES ('afbb109f445f4d8aae8c48b65f5d224b', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'release-closed', NULL, false, 'available', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'T539AB925-3F6D-44C4-88C4-034EC9B9B2D4', 'AVAILABLE', false, NULL, NULL, 'root@vm', '3733d519d7648726068f59884d76b851', 'vm', 17262, '2026-12-07T05:22:05.981+00:00', '2026-12-07T05:22:06.246+00:00', '2026-12-07T05:22:05.996+00:00', '2026-12-07T05:22:05.996+00:00', 1, 65, '{"image_ids": ["img-tjsISekULB4FDrA4qzP41WBq9"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T05:22:05.981+00:00"}', NULL);
INSERT INTO zw_intents VALUES ('dbd5c84f755d4b51b0a6fbbe2716efee', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'nightly-20261207T0522', 'Rotation policy nightly', false, 'available', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'T0B882D88-DFF0-4E80-B2FC-992AAF0E005F', 'AVAILABLE', false, NULL, NULL, 'root@vm', '3733d519d764d92196dd141b454cbe79', 'vm', 17262, '2026-12-07T05:22:06.286+00:00', '2026-12-07T05:22:06.517+00:00', '2026-12-07T05:22:06.289+00:00', '2026-12-07T05:22:06.289+00:00', 1, 65, '{"image_ids": ["img-tjsISekULB4FDrA4qzP41WBq9", "img-zqNnsgm0mqO2xh2dpPqMSL8jd"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T05:22:06.286+00:00"}', NULL);
INSERT INTO zw_intents VALUES ('f4339072faf0486cae2c34c191c5f28c', 'http://emulator-4.localhost', 'HKG-A', '2727883571150', 'nightly-20261207T0522a', 'Rotation policy nightly', false, 'available', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'TF97E101C-9699-43C5-B6A8-446FA7B409AD', 'AVAILABLE', false, NULL, NULL, 'root@vm', '3733d519d764277ecef9c4dd47a4b6f2', 'vm', 17262, '2026-12-07T05:22:06.597+00:00', '2026-12-07T05:22:06.824+00:00', '2026-12-07T05:22:06.599+00:00', '2026-12-07T05:22:06.599+00:00', 1, 65, '{"image_ids": ["img-e9L8E7rY6Ih3FzGQfL5nPv4jo", "img-tjsISekULB4FDrA4qzP41WBq9", "img-zqNnsgm0mqO2xh2dpPqMSL8jd"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T05:22:06.597+00:00"}', NULL);
INSERT INTO zw_intents VALUES ('0a9f5722987f46dd8869cf07deb4ca63', 'http://emulator-4.localhost', 'HKG-A', '1414024560606', 'release-open', 'left open', true, NULL, NULL, NULL, NULL, false, NULL, NULL, 'root@vm', 'dfda7590c93c4b8fbc791797a4f838bd', 'vm', 17262, '2026-12-07T05:22:06.853+00:00', '2026-12-07T05:22:06.855+00:00', '2026-12-07T05:22:06.855+00:00', '2026-12-07T05:22:06.855+00:00', 1, 60, 'null', NULL);






INSERT INTO zw_policy_runs VALUES ('d1cd7d7052964fe4a70d34b73edaefbe', 'nightly', 'http://emulator-4.localhost', 'nightly', '20261207T0522', '2026-12-07T05:22:06.260+00:00', '2026-12-07T05:22:06.562+00:00', 'ok', 'root@vm', '3733d519d764e4a1749a7f7f4ff8af16', 'vm', 17262, '2026-12-07T05:22:06.260+00:00');
INSERT INTO zw_policy_runs VALUES ('9633993d462d484aa70b34e914c2e76f', 'nightly', 'http://emulator-4.localhost', 'nightly', '20261207T0522', '2026-12-07T05:22:06.569+00:00', '2026-12-07T05:22:06.851+00:00', 'ok', 'root@vm', '3733d519d764c52fb0c763784ed288d7', 'vm', 17262, '2026-12-07T05:22:06.840+00:00');
INSERT INTO zw_policy_runs VALUES ('ffffffffffffffffffffffffffffffff', 'weekly', 'http://emulator-4.localhost', 'weekly', '20261201T0000', '2026-12-01T00:00:00.000+00:00', NULL, NULL, 'ops@host', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'host', 1, '2026-12-01T00:00:01.000+00:00');



INSERT INTO zw_policy_steps VALUES ('d1cd7d7052964fe4a70d34b73edaefbe', '2727883571150', 'nightly', 'http://emulator-4.localhost', 'HKG-A', 'nightly-20261207T0522', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'done', NULL, '[]', '2026-12-07T05:22:06.547+00:00');
INSERT INTO zw_policy_steps VALUES ('9633993d462d484aa70b34e914c2e76f', '2727883571150', 'nightly', 'http://emulator-4.localhost', 'HKG-A', 'nightly-20261207T0522a', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'done', NULL, '["img-e9L8E7rY6Ih3FzGQfL5nPv4jo"]', '2026-12-07T05:22:06.847+00:00');
INSERT INTO zw_policy_steps VALUES ('ffffffffffffffffffffffffffffffff', '1414024560606', 'weekly', 'http://emulator-4.localhost', 'HKG-A', 'weekly-20261201T0000', NULL, 'planned', NULL, NULL, '2026-12-01T00:00:00.000+00:00');



INSERT INTO zw_schema_version VALUES (1, 'intents, actions and legacy imports', '2026-12-07T05:22:05.835+00:00');
INSERT INTO zw_schema_version VALUES (2, 'rotation-policy runs and steps', '2026-12-07T05:22:05.850+00:00');
INSERT INTO zw_schema_version VALUES (3, 'policy-run leases, one unfinished run per policy, actions tagged with their run', '2026-12-07T05:22:05.932+00:00');



SELECT pg_catalog.setval('zw_actions_action_id_seq', 9, true);



SELECT pg_catalog.setval('zw_schema_version_version_seq', 1, false);



ALTER TABLE ONLY zw_actions
    ADD CONSTRAINT zw_actions_pkey PRIMARY KEY (action_id);



ALTER TABLE ONLY zw_intents
    ADD CONSTRAINT zw_intents_pkey PRIMARY KEY (intent_id);



ALTER TABLE ONLY zw_legacy_imports
    ADD CONSTRAINT zw_legacy_imports_pkey PRIMARY KEY (path);



ALTER TABLE ONLY zw_policy_runs
    ADD CONSTRAINT zw_policy_runs_pkey PRIMARY KEY (run_id);



ALTER TABLE ONLY zw_policy_steps
    ADD CONSTRAINT zw_policy_steps_pkey PRIMARY KEY (run_id, instance_id);



ALTER TABLE ONLY zw_schema_version
    ADD CONSTRAINT zw_schema_version_pkey PRIMARY KEY (version);



CREATE INDEX zw_actions_account_at ON zw_actions USING btree (account, at);



CREATE INDEX zw_actions_run ON zw_actions USING btree (run_id);



CREATE INDEX zw_intents_closed_age ON zw_intents USING btree (is_open, updated_at);



CREATE INDEX zw_intents_image ON zw_intents USING btree (image_id);



CREATE UNIQUE INDEX zw_one_open_per_instance ON zw_intents USING btree (account, instance_id) WHERE is_open;



CREATE UNIQUE INDEX zw_one_open_per_name ON zw_intents USING btree (account, zone_id, image_name) WHERE is_open;



CREATE UNIQUE INDEX zw_one_unfinished_run ON zw_policy_runs USING btree (account, policy) WHERE (finished_at IS NULL);



CREATE INDEX zw_policy_runs_policy ON zw_policy_runs USING btree (account, policy, started_at);



CREATE INDEX zw_policy_steps_owner ON zw_policy_steps USING btree (account, policy, zone_id);




