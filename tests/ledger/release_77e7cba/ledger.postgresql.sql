


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
    evidence json,
    owner_process text
);



CREATE TABLE zw_legacy_imports (
    path text NOT NULL,
    imported_at text NOT NULL,
    intents integer NOT NULL
);



CREATE TABLE zw_operation_steps (
    operation_id character varying(32) NOT NULL,
    "position" integer NOT NULL,
    kind text NOT NULL,
    params json,
    always boolean NOT NULL,
    state text NOT NULL,
    sent_at text,
    attempts integer NOT NULL,
    settle_seconds double precision,
    result json,
    evidence json,
    error_type text,
    error_code text,
    updated_at text NOT NULL
);



CREATE TABLE zw_operations (
    operation_id character varying(32) NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    account text NOT NULL,
    zone_id text,
    instance_id text,
    image_id text,
    params json,
    facts json,
    outcome text,
    error_type text,
    error_code text,
    who text NOT NULL,
    owner character varying(32),
    owner_host text,
    owner_pid integer,
    owner_process text,
    heartbeat_at text,
    started_at text NOT NULL,
    updated_at text NOT NULL,
    finished_at text
);



CREATE TABLE zw_pins (
    account text NOT NULL,
    image_id text NOT NULL,
    zone_id text,
    image_name text,
    reason text NOT NULL,
    who text NOT NULL,
    pinned_at text NOT NULL
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
    heartbeat_at text,
    owner_process text
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



CREATE TABLE zw_run_history (
    run_id character varying(32) NOT NULL,
    account text NOT NULL,
    policy text NOT NULL,
    runbook text NOT NULL,
    kind text NOT NULL,
    parameters json,
    window_start text,
    started_at text NOT NULL,
    ended_at text,
    outcome text,
    output text,
    detail text,
    who text NOT NULL
);



CREATE TABLE zw_run_windows (
    account text NOT NULL,
    policy text NOT NULL,
    window_start text NOT NULL,
    period text NOT NULL,
    state text NOT NULL,
    run_id character varying(32),
    at text NOT NULL
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



INSERT INTO zw_actions VALUES (1, '2026-12-07T10:28:08.339+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'release-closed', 'T3B0B9F89-FAEC-4677-AC02-6B235A31728D', 'submitted', 'root@vm', '5ada81e53a9c49d9b23fa7703634055c', NULL, NULL);
INSERT INTO zw_actions VALUES (2, '2026-12-07T10:28:08.557+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'release-closed', 'T3B0B9F89-FAEC-4677-AC02-6B235A31728D', 'available', 'root@vm', '5ada81e53a9c49d9b23fa7703634055c', NULL, NULL);
INSERT INTO zw_actions VALUES (3, '2026-12-07T10:28:08.657+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T1028', 'TD9EAE4AB-C77A-493D-AA14-6285BF1252A1', 'submitted', 'root@vm', '4f89457bdfcf49d6b703355155b493e9', NULL, '4a1b6ffbae994ce3ac14ef931ccf8bde');
INSERT INTO zw_actions VALUES (4, '2026-12-07T10:28:08.879+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T1028', 'TD9EAE4AB-C77A-493D-AA14-6285BF1252A1', 'available', 'root@vm', '4f89457bdfcf49d6b703355155b493e9', NULL, '4a1b6ffbae994ce3ac14ef931ccf8bde');
INSERT INTO zw_actions VALUES (5, '2026-12-07T10:28:08.920+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'nightly-20261207T1028a', 'TA86BE03F-92D3-4986-993C-8D2E32D2E284', 'submitted', 'root@vm', '789e08576715400e87c979b02d65ade0', NULL, 'db430399a17d480d8716d105972f4323');
INSERT INTO zw_actions VALUES (6, '2026-12-07T10:28:09.133+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'nightly-20261207T1028a', 'TA86BE03F-92D3-4986-993C-8D2E32D2E284', 'available', 'root@vm', '789e08576715400e87c979b02d65ade0', NULL, 'db430399a17d480d8716d105972f4323');
INSERT INTO zw_actions VALUES (7, '2026-12-07T10:28:09.173+00:00', 'delete', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', NULL, 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'nightly-20261207T1028', 'TBE188C39-898A-4A7B-A107-6747C2B1FED1', 'done', 'root@vm', NULL, NULL, 'db430399a17d480d8716d105972f4323');
INSERT INTO zw_actions VALUES (8, '2026-12-07T10:28:09.844+00:00', 'create', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'img-bqyl8gkKX6LdSfYFZjGjxrzGr', 'nightly-20261207T1028', 'TA5D61438-3A2E-4B77-9257-A6D37836B352', 'submitted', 'root@vm', '77433c3796d44020af145a6321f3c718', NULL, '48137b637e0049a0a115ffe093a8197b');



INSERT INTO zw_intents VALUES ('5ada81e53a9c49d9b23fa7703634055c', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'release-closed', NULL, false, 'available', 'img-zqNnsgm0mqO2xh2dpPqMSL8jd', 'T3B0B9F89-FAEC-4677-AC02-6B235A31728D', 'AVAILABLE', false, NULL, NULL, 'root@vm', '4a2635f619e6d950616f14624c8a984e', 'vm', 8038, '2026-12-07T10:28:08.320+00:00', '2026-12-07T10:28:08.557+00:00', '2026-12-07T10:28:08.328+00:00', '2026-12-07T10:28:08.328+00:00', 1, 65, '{"image_ids": ["img-tjsISekULB4FDrA4qzP41WBq9"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T10:28:08.320+00:00"}', NULL, 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');
INSERT INTO zw_intents VALUES ('4f89457bdfcf49d6b703355155b493e9', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'nightly-20261207T1028', 'Rotation policy nightly', false, 'available', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'TD9EAE4AB-C77A-493D-AA14-6285BF1252A1', 'AVAILABLE', false, NULL, NULL, 'root@vm', '4a2635f619e64981845f352a434ba53d', 'vm', 8038, '2026-12-07T10:28:08.637+00:00', '2026-12-07T10:28:08.879+00:00', '2026-12-07T10:28:08.650+00:00', '2026-12-07T10:28:08.650+00:00', 1, 65, '{"image_ids": ["img-tjsISekULB4FDrA4qzP41WBq9", "img-zqNnsgm0mqO2xh2dpPqMSL8jd"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T10:28:08.637+00:00"}', NULL, 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');
INSERT INTO zw_intents VALUES ('789e08576715400e87c979b02d65ade0', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'nightly-20261207T1028a', 'Rotation policy nightly', false, 'available', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'TA86BE03F-92D3-4986-993C-8D2E32D2E284', 'AVAILABLE', false, NULL, NULL, 'root@vm', '4a2635f619e69690baaf8daa447ca2f8', 'vm', 8038, '2026-12-07T10:28:08.915+00:00', '2026-12-07T10:28:09.133+00:00', '2026-12-07T10:28:08.917+00:00', '2026-12-07T10:28:08.917+00:00', 1, 65, '{"image_ids": ["img-e9L8E7rY6Ih3FzGQfL5nPv4jo", "img-tjsISekULB4FDrA4qzP41WBq9", "img-zqNnsgm0mqO2xh2dpPqMSL8jd"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T10:28:08.915+00:00"}', NULL, 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');
INSERT INTO zw_intents VALUES ('77433c3796d44020af145a6321f3c718', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', '2727883571150', 'nightly-20261207T1028', 'Rotation policy nightly', true, 'submitted', 'img-bqyl8gkKX6LdSfYFZjGjxrzGr', 'TA5D61438-3A2E-4B77-9257-A6D37836B352', 'CREATING', false, NULL, NULL, 'root@vm', '4a2635f619e62d4b61faf5104dfc9ef4', 'vm', 8038, '2026-12-07T10:28:09.838+00:00', '2026-12-07T10:28:09.844+00:00', '2026-12-07T10:28:09.841+00:00', '2026-12-07T10:28:09.841+00:00', 1, 65, '{"image_ids": ["img-tjsISekULB4FDrA4qzP41WBq9", "img-y4ndmHBlHpqktURWzqz73Kr6E", "img-zqNnsgm0mqO2xh2dpPqMSL8jd"], "instance_status": "STOPPED", "disk_size": 60, "taken_at": "2026-12-07T10:28:09.838+00:00"}', NULL, 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');






INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 0, 'price', '{"zone_id": "HKG-A", "instance_type": "z2a.c1m2", "system_disk_size": 60, "max_price": 0.0212}', false, 'done', '2026-12-07T10:28:09.233+00:00', 1, 65, '{"price": 0.0212}', NULL, NULL, NULL, '2026-12-07T10:28:09.245+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 1, 'launch', '{"zone_id": "HKG-A", "instance_type": "z2a.c1m2", "image_id": "img-y4ndmHBlHpqktURWzqz73Kr6E", "system_disk_size": 60, "instance_name": "zw-verify-img-y4ndmHBlHpqktURWzqz73Kr6E", "tags": {"zenlayer-widgets-role": "verify-throwaway"}, "random_password": true}', false, 'done', '2026-12-07T10:28:09.253+00:00', 1, 65, '{"instance_id": "2488905451011", "launch_request_id": "TB370B76F-AFA9-4E80-B010-703F80F9CAD6"}', NULL, NULL, NULL, '2026-12-07T10:28:09.265+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 2, 'wait_status', '{"status": "RUNNING", "passing": ["PENDING", "DEPLOYING"], "timeout": 900.0}', false, 'done', '2026-12-07T10:28:09.268+00:00', 1, 65, '{"running_at": "2026-12-07T10:28:09.688+00:00"}', NULL, NULL, NULL, '2026-12-07T10:28:09.690+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 3, 'probe', '{}', false, 'done', '2026-12-07T10:28:09.696+00:00', 1, 65, '{}', NULL, NULL, NULL, '2026-12-07T10:28:09.712+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 4, 'record_boot', '{}', false, 'done', '2026-12-07T10:28:09.718+00:00', 1, 65, '{"booted": true, "boot_seconds": 0.435, "verified_at": "2026-12-07T10:28:09.727+00:00"}', NULL, NULL, NULL, '2026-12-07T10:28:09.730+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 5, 'terminate', '{}', true, 'done', '2026-12-07T10:28:09.739+00:00', 1, 65, '{"terminate_request_id": "T1CB1B683-0561-4C66-B78F-5FA03CF2CEF4", "terminated_at": "2026-12-07T10:28:09.754+00:00"}', NULL, NULL, NULL, '2026-12-07T10:28:09.762+00:00');
INSERT INTO zw_operation_steps VALUES ('90cb428e540b429babe3859a2c7d73e8', 6, 'release', '{}', true, 'done', '2026-12-07T10:28:09.773+00:00', 1, 65, '{"released": true, "released_at": "2026-12-07T10:28:09.783+00:00"}', NULL, NULL, NULL, '2026-12-07T10:28:09.787+00:00');



INSERT INTO zw_operations VALUES ('90cb428e540b429babe3859a2c7d73e8', 'verify', 'verify:img-y4ndmHBlHpqktURWzqz73Kr6E', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', NULL, 'img-y4ndmHBlHpqktURWzqz73Kr6E', '{}', '{"price": 0.0212, "instance_id": "2488905451011", "launch_request_id": "TB370B76F-AFA9-4E80-B010-703F80F9CAD6", "running_at": "2026-12-07T10:28:09.688+00:00", "booted": true, "boot_seconds": 0.435, "verified_at": "2026-12-07T10:28:09.727+00:00", "terminate_request_id": "T1CB1B683-0561-4C66-B78F-5FA03CF2CEF4", "terminated_at": "2026-12-07T10:28:09.754+00:00", "released": true, "released_at": "2026-12-07T10:28:09.783+00:00"}', 'done', NULL, NULL, 'root@vm', '4a2635f619e6bd2f1466e8f44d1db12b', 'vm', 8038, 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56', '2026-12-07T10:28:09.787+00:00', '2026-12-07T10:28:09.213+00:00', '2026-12-07T10:28:09.790+00:00', '2026-12-07T10:28:09.790+00:00');






INSERT INTO zw_policy_runs VALUES ('4a1b6ffbae994ce3ac14ef931ccf8bde', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'nightly', '20261207T1028', '2026-12-07T10:28:08.588+00:00', '2026-12-07T10:28:08.896+00:00', 'ok', 'root@vm', '4a2635f619e6593f6a2601284cafa82b', 'vm', 8038, '2026-12-07T10:28:08.588+00:00', 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');
INSERT INTO zw_policy_runs VALUES ('db430399a17d480d8716d105972f4323', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'nightly', '20261207T1028', '2026-12-07T10:28:08.898+00:00', '2026-12-07T10:28:09.181+00:00', 'ok', 'root@vm', '4a2635f619e6e0fb42f22db94886bff2', 'vm', 8038, '2026-12-07T10:28:09.164+00:00', 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');
INSERT INTO zw_policy_runs VALUES ('48137b637e0049a0a115ffe093a8197b', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'nightly', '20261207T1028', '2026-12-07T10:28:09.795+00:00', NULL, NULL, 'root@vm', '4a2635f619e6c4df30e7ea8b44719ef5', 'vm', 8038, '2026-12-07T10:28:09.795+00:00', 'd6d5066f-1e90-4ff2-b914-acc18b29b94a/pid:[4026531836]/1796639283.56');



INSERT INTO zw_policy_steps VALUES ('4a1b6ffbae994ce3ac14ef931ccf8bde', '2727883571150', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', 'nightly-20261207T1028', 'img-e9L8E7rY6Ih3FzGQfL5nPv4jo', 'done', NULL, '[]', '2026-12-07T10:28:08.892+00:00');
INSERT INTO zw_policy_steps VALUES ('db430399a17d480d8716d105972f4323', '2727883571150', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', 'nightly-20261207T1028a', 'img-y4ndmHBlHpqktURWzqz73Kr6E', 'done', NULL, '["img-e9L8E7rY6Ih3FzGQfL5nPv4jo"]', '2026-12-07T10:28:09.178+00:00');
INSERT INTO zw_policy_steps VALUES ('48137b637e0049a0a115ffe093a8197b', '2727883571150', 'nightly', 'http://emulator-2.localhost#key=DEMO-EMULATOR-ACCESS-KEY-ID', 'HKG-A', 'nightly-20261207T1028', 'img-bqyl8gkKX6LdSfYFZjGjxrzGr', 'planned', NULL, NULL, '2026-12-07T10:28:09.850+00:00');









INSERT INTO zw_schema_version VALUES (1, 'intents, actions and legacy imports', '2026-12-07T10:28:08.189+00:00');
INSERT INTO zw_schema_version VALUES (2, 'rotation-policy runs and steps', '2026-12-07T10:28:08.205+00:00');
INSERT INTO zw_schema_version VALUES (3, 'policy-run leases, one unfinished run per policy, actions tagged with their run', '2026-12-07T10:28:08.261+00:00');
INSERT INTO zw_schema_version VALUES (4, 'pinned images (kept out of rotation policies)', '2026-12-07T10:28:08.264+00:00');
INSERT INTO zw_schema_version VALUES (5, 'intents indexed by image id alone; the owner''s process identity on intents and policy runs', '2026-12-07T10:28:08.281+00:00');
INSERT INTO zw_schema_version VALUES (6, 'durable operations and their steps', '2026-12-07T10:28:08.293+00:00');
INSERT INTO zw_schema_version VALUES (7, 'run history and period windows of unattended runs', '2026-12-07T10:28:08.301+00:00');



SELECT pg_catalog.setval('zw_actions_action_id_seq', 8, true);



SELECT pg_catalog.setval('zw_schema_version_version_seq', 1, false);



ALTER TABLE ONLY zw_actions
    ADD CONSTRAINT zw_actions_pkey PRIMARY KEY (action_id);



ALTER TABLE ONLY zw_intents
    ADD CONSTRAINT zw_intents_pkey PRIMARY KEY (intent_id);



ALTER TABLE ONLY zw_legacy_imports
    ADD CONSTRAINT zw_legacy_imports_pkey PRIMARY KEY (path);



ALTER TABLE ONLY zw_operation_steps
    ADD CONSTRAINT zw_operation_steps_pkey PRIMARY KEY (operation_id, "position");



ALTER TABLE ONLY zw_operations
    ADD CONSTRAINT zw_operations_pkey PRIMARY KEY (operation_id);



ALTER TABLE ONLY zw_pins
    ADD CONSTRAINT zw_pins_pkey PRIMARY KEY (account, image_id);



ALTER TABLE ONLY zw_policy_runs
    ADD CONSTRAINT zw_policy_runs_pkey PRIMARY KEY (run_id);



ALTER TABLE ONLY zw_policy_steps
    ADD CONSTRAINT zw_policy_steps_pkey PRIMARY KEY (run_id, instance_id);



ALTER TABLE ONLY zw_run_history
    ADD CONSTRAINT zw_run_history_pkey PRIMARY KEY (run_id);



ALTER TABLE ONLY zw_run_windows
    ADD CONSTRAINT zw_run_windows_pkey PRIMARY KEY (account, policy, window_start);



ALTER TABLE ONLY zw_schema_version
    ADD CONSTRAINT zw_schema_version_pkey PRIMARY KEY (version);



CREATE INDEX zw_actions_account_at ON zw_actions USING btree (account, at);



CREATE INDEX zw_actions_run ON zw_actions USING btree (run_id);



CREATE INDEX zw_intents_closed_age ON zw_intents USING btree (is_open, updated_at);



CREATE INDEX zw_intents_image ON zw_intents USING btree (image_id);



CREATE UNIQUE INDEX zw_one_open_per_instance ON zw_intents USING btree (account, instance_id) WHERE is_open;



CREATE UNIQUE INDEX zw_one_open_per_name ON zw_intents USING btree (account, zone_id, image_name) WHERE is_open;



CREATE UNIQUE INDEX zw_one_unfinished_operation ON zw_operations USING btree (account, key) WHERE (finished_at IS NULL);



CREATE UNIQUE INDEX zw_one_unfinished_run ON zw_policy_runs USING btree (account, policy) WHERE (finished_at IS NULL);



CREATE INDEX zw_operations_image ON zw_operations USING btree (image_id);



CREATE INDEX zw_operations_key ON zw_operations USING btree (account, key, started_at);



CREATE INDEX zw_policy_runs_policy ON zw_policy_runs USING btree (account, policy, started_at);



CREATE INDEX zw_policy_steps_owner ON zw_policy_steps USING btree (account, policy, zone_id);



CREATE INDEX zw_run_history_started ON zw_run_history USING btree (account, policy, started_at);




