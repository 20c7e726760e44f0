#include "scheduler/config/scheduler_config.h"

#include <gtest/gtest.h>

#include <tuple>

#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

TEST(SchedulerConfigTest, DatabaseNameDefaultsToDbname) {
  auto config = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - dbname: dxmediadb
        host: /run/postgresql
        password_file: /etc/dxbackup/pg
)",
                                     "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->deployments(0).databases(0).name(), "dxmediadb");
}

TEST(SchedulerConfigTest, RejectsDuplicatesAndMissingFields) {
  auto dup = ParseSchedulerConfig(
      "deployments:\n  - {namespace: a, release: dx}\n"
      "  - {namespace: a, release: dx}\n",
      "s.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("s.yaml:3: deployments[1]"),
            std::string::npos)
      << dup.status();
  auto nodb = ParseSchedulerConfig(
      "deployments:\n  - namespace: a\n    release: dx\n    databases:\n"
      "      - host: x\n",
      "s.yaml");
  ASSERT_FALSE(nodb.ok());
  EXPECT_NE(nodb.status().message().find("needs dbname"), std::string::npos);
}

// Each (database entry, words of its error) of `bad`, as the only database
// of a deployment: refused with those words, naming the entry.
void ExpectEachRefused(
    const std::vector<std::pair<std::string, std::string>>& bad) {
  for (const auto& [database, error] : bad) {
    auto config = ParseSchedulerConfig(
        "deployments:\n  - namespace: a\n    release: dx\n    databases:\n" +
            database,
        "s.yaml");
    ASSERT_FALSE(config.ok()) << database;
    EXPECT_NE(config.status().message().find(error), std::string::npos)
        << config.status();
    EXPECT_NE(config.status().message().find("deployments[0].databases[0]"),
              std::string::npos)
        << config.status();
  }
}

TEST(SchedulerConfigTest, ACommandDatabaseNeedsANameADumpAndARestore) {
  auto good = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - name: jcr
        command:
          dump: [db2-dump.sh, JCRDB]
          restore: [db2-restore.sh]
          env: {DB2INSTANCE: db2inst1}
          env_files: {DB2PASSWORD: /etc/dxbackup/db2}
)",
                                   "s.yaml");
  ASSERT_TRUE(good.ok()) << good.status();
  const v1::Database& jcr = good->deployments(0).databases(0);
  EXPECT_EQ(jcr.command().dump(0), "db2-dump.sh");
  EXPECT_EQ(jcr.command().env_files().at("DB2PASSWORD"), "/etc/dxbackup/db2");

  // Each mistake, and the words of its error.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"      - command: {dump: [d], restore: [r]}\n", "needs a name"},
      {"      - name: jcr\n        command: {restore: [r]}\n",
       "command.dump: needs the dump command"},
      {"      - name: jcr\n        command: {dump: [d]}\n",
       "command.restore: needs the restore command"},
      {"      - name: jcr\n        dbname: jcr\n"
       "        command: {dump: [d], restore: [r]}\n",
       "both `command` and PostgreSQL fields"},
      {"      - name: jcr\n        port: 5432\n"
       "        command: {dump: [d], restore: [r]}\n",
       "both `command` and PostgreSQL fields"},
  };
  ExpectEachRefused(bad);
}

TEST(SchedulerConfigTest, AnExternalDatabaseNeedsANameAndABackupCommand) {
  auto good = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - name: wpsdb
        external:
          backup: [db2-online-backup.sh, WPSDB]
          env_files: {DB2PASSWORD: /etc/dxbackup/db2}
)",
                                   "s.yaml");
  ASSERT_TRUE(good.ok()) << good.status();
  const v1::Database& wpsdb = good->deployments(0).databases(0);
  EXPECT_EQ(wpsdb.external().backup(1), "WPSDB");
  EXPECT_TRUE(wpsdb.external().restore().empty());  // restored by hand

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"      - external: {backup: [b]}\n", "needs a name"},
      {"      - name: wpsdb\n        external: {restore: [r]}\n",
       "external.backup: needs the argv"},
      {"      - name: wpsdb\n        host: db2\n"
       "        external: {backup: [b]}\n",
       "both `external` and PostgreSQL fields"},
      {"      - name: wpsdb\n        allow_standby: true\n"
       "        external: {backup: [b]}\n",
       "both `external` and PostgreSQL fields"},
      {"      - name: wpsdb\n        external: {backup: [b]}\n"
       "        command: {dump: [d], restore: [r]}\n",
       "both `command` and `external`"},
      {"      - name: wpsdb\n        external: {backup: [b], restore: ['']}\n",
       "external.restore: starts with an empty program name"},
  };
  ExpectEachRefused(bad);
}

TEST(SchedulerConfigTest, ADiscoveryEntryNeedsANameAndNoOtherEngine) {
  auto good = ParseSchedulerConfig(R"(
deployments:
  - namespace: dx-prod
    release: dx
    databases:
      - name: persistence
        discover: true
        host: dx-persistence-rw
        user: dxadmin
        password_file: /etc/dxbackup/pg
        exclude: [scratch, test]
)",
                                   "s.yaml");
  ASSERT_TRUE(good.ok()) << good.status();
  const v1::Database& entry = good->deployments(0).databases(0);
  EXPECT_TRUE(entry.discover());
  EXPECT_EQ(entry.exclude_size(), 2);
  EXPECT_EQ(entry.dbname(), "") << "lists them from `postgres`";

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"      - discover: true\n        host: pg\n",
       "a `discover` entry needs a name"},
      {"      - discover: true\n        dbname: postgres\n",
       "a `discover` entry needs a name"},
      {"      - name: all\n        discover: true\n"
       "        command: {dump: [d], restore: [r]}\n",
       "has `discover` with `command` or `external`"},
      {"      - name: all\n        discover: true\n"
       "        external: {backup: [b]}\n",
       "has `discover` with `command` or `external`"},
      {"      - dbname: dxmediadb\n        exclude: [x]\n",
       "exclude: goes with `discover: true`"},
      {"      - name: all\n        discover: true\n        exclude: ['']\n",
       "exclude: has an empty name"},
  };
  ExpectEachRefused(bad);
}

TEST(SchedulerConfigTest, FileErrorsNameTheFileAndLine) {
  testing::TempDir dir;
  testing::WriteFile(dir / "bad.yaml",
                     "deployments:\n  - namespace: a\n    release: dx\n"
                     "    databses: []\n");
  auto config = LoadSchedulerConfig(dir / "bad.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir / "bad.yaml:4:"),
            std::string::npos)
      << config.status();
}

}  // namespace
}  // namespace dxbackup::scheduler

namespace dxbackup::scheduler {
namespace {

TEST(SchedulerConfigTest, LoadsPolicies) {
  auto config = ParseSchedulerConfig(R"(
limits: {max_sets: 4, max_sets_per_namespace: 1}
policies:
  - name: nightly
    selector: {namespaces: ["dx-*"], release: dx, component: core}
    schedule: "@daily-spread"
    time_zone: Europe/Berlin
    capture: {compression: zstd, compression_level: 6, excludes: ["wstemp/*"]}
    retention: {keep_daily: 7, keep_weekly: 4, keep_min_complete: 2}
)",
                                     "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policies(0).retention().keep_weekly(), 4);
  EXPECT_EQ(config->limits().max_sets(), 4);
}

TEST(SchedulerConfigTest, PolicyErrorsNameTheLineAndKey) {
  const std::string prefix =
      "policies:\n"
      "  - name: nightly\n"
      "    selector: {namespaces: [dx]}\n";
  struct Bad {
    std::string tail;
    std::string want;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"    schedule: \"61 * * * *\"\n",
            "s.yaml:4: policies[0].schedule: schedule \"61 * * * *\""},
           {"    schedule: \"@daily\"\n    time_zone: Mars/Olympus\n",
            "s.yaml:5: policies[0].time_zone: unknown time zone"},
           {"    schedule: \"@daily\"\n    retention:\n      keep_within: 7w\n",
            "s.yaml:5: policies[0].retention: duration \"7w\""},
           {"    schedule: \"@daily\"\n    retention: {keep_last: -3}\n",
            "s.yaml:5: policies[0].retention: keep counts"},
           {"    schedule: \"@daily\"\n    verify: {schedule: "
            "\"@fortnightly\"}\n",
            "s.yaml:5: policies[0].verify.schedule: unknown schedule "
            "\"@fortnightly\""},
           {"    schedule: \"@daily\"\n    verify: {deep: true}\n",
            "s.yaml:5: policies[0].verify.schedule: is required"},
           {"    schedule: \"@daily\"\n    drill: {to_dir: /scratch}\n",
            "s.yaml:5: policies[0].drill.schedule: is required"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "to_dir: scratch}\n",
            "s.yaml:5: policies[0].drill.to_dir: to_dir \"scratch\""},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "to_dir: /scratch/../etc}\n",
            "s.yaml:5: policies[0].drill.to_dir: to_dir \"/scratch/../etc\""},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "to_dir: /scratch/}\n",
            "s.yaml:5: policies[0].drill.to_dir: to_dir \"/scratch/\""},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "smoke: {timeout_seconds: 5}}\n",
            "s.yaml:5: policies[0].drill.smoke.command: give the smoke test's "
            "command"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "smoke: {command: [a, b], shell: true}}\n",
            "s.yaml:5: policies[0].drill.smoke.command: with shell: true, give "
            "one shell line"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "smoke: {command: [\"true\"], component: \"../core\"}}\n",
            "s.yaml:5: policies[0].drill.smoke.component:"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "smoke: {command: [\"true\"], timeout_seconds: -1}}\n",
            "s.yaml:5: policies[0].drill.smoke.timeout_seconds: must not be "
            "negative"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "agent: drill-0}\n",
            "s.yaml:5: policies[0].drill.agent: agent \"drill-0\" is not "
            "allowed: an agent is named namespace/release/pod"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "agent: dx/scratch/drill-0, namespace: dx, release: scratch}\n",
            "s.yaml:5: policies[0].drill: give agent or namespace and "
            "release, not both"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "namespace: dx-scratch}\n",
            "s.yaml:5: policies[0].drill: a scratch deployment needs both "
            "namespace and release"},
           {"    schedule: \"@daily\"\n    drill: {schedule: \"@weekly\", "
            "namespace: dx-scratch, release: ../x}\n",
            "s.yaml:5: policies[0].drill.release: release \"../x\""},
           {"    schedule: \"@daily\"\n    rto_seconds: -1\n",
            "s.yaml:5: policies[0].rto_seconds: must not be negative"},
           {"    schedule: \"@daily\"\n    rpo_seconds: -1\n",
            "s.yaml:5: policies[0].rpo_seconds: must not be negative"},
       }) {
    auto config = ParseSchedulerConfig(prefix + bad.tail, "s.yaml");
    ASSERT_FALSE(config.ok()) << bad.tail;
    EXPECT_NE(config.status().message().find(bad.want), std::string::npos)
        << config.status();
  }
  auto none = ParseSchedulerConfig(
      "policies:\n  - name: p\n    schedule: \"@daily\"\n", "s.yaml");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("s.yaml:2: policies[0].selector"),
            std::string::npos)
      << none.status();
}

TEST(SchedulerConfigTest, WebhookErrorsNameTheKey) {
  struct Bad {
    std::string webhook;
    std::string want;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"{url: http://h/x}", "webhooks[0]: needs a name"},
           {"{name: a}", "webhooks[0]: give one of url and url_file"},
           {"{name: a, url: http://h/x, url_file: /f}",
            "webhooks[0]: give one of url and url_file"},
           {"{name: a, url: ftp://h/x}",
            "webhooks[0].url: must start with http:// or https://"},
           {"{name: a, url: http://h/x, events: [set_failed, set_lost]}",
            "webhooks[0].events[1]: unknown event \"set_lost\"; the events "
            "are set_failed, set_recovered, deployment_stale, "
            "verification_failed, drill_failed"},
           {"{name: a, url: http://h/x, timeout_seconds: -1}",
            "webhooks[0].timeout_seconds: must not be negative"},
       }) {
    auto config = ParseSchedulerConfig(
        "notifications:\n  webhooks:\n    - " + bad.webhook + "\n", "s.yaml");
    ASSERT_FALSE(config.ok()) << bad.webhook;
    EXPECT_NE(config.status().message().find("notifications." + bad.want),
              std::string::npos)
        << config.status();
  }
  auto twice = ParseSchedulerConfig(
      "notifications:\n  webhooks:\n    - {name: a, url: http://h/1}\n"
      "    - {name: a, url: http://h/2}\n",
      "s.yaml");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("webhook a is defined twice"),
            std::string::npos);
  auto minutes = ParseSchedulerConfig("notifications: {give_up_after: 30m}\n",
                                      "s.yaml");  // m: months
  ASSERT_FALSE(minutes.ok());
  EXPECT_NE(minutes.status().message().find("give days or hours"),
            std::string::npos)
      << minutes.status();
  EXPECT_TRUE(ParseSchedulerConfig(
                  "notifications:\n  give_up_after: 2d\n  webhooks:\n"
                  "    - {name: a, format: SLACK, url_file: /nonexistent}\n",
                  "s.yaml")
                  .ok())
      << "a url_file is read at each delivery, not at load";
}

TEST(SchedulerConfigTest, APostgresCatalogTakesConnectionFieldsOnly) {
  auto good = ParseSchedulerConfig(
      "catalog:\n  postgres: {host: pg.dx, port: 5432, dbname: dxbackup, user: "
      "dxbackup, password_file: /secrets/pg, sslmode: verify-full, ca_file: "
      "/secrets/ca.pem}\n",
      "s.yaml");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->catalog().postgres().ca_file(), "/secrets/ca.pem");
  for (const auto& [yaml, want] :
       std::vector<std::pair<std::string, std::string>>{
           {"{host: pg}", "catalog.postgres.dbname: give the database"},
           {"{dbname: c, discover: true}",
            "catalog.postgres: takes host, port, dbname"},
           {"{dbname: c, password_file: secrets/pg}",
            "catalog.postgres.password_file: needs an absolute path"},
           {"{dbname: c, ca_file: ca.pem}",
            "catalog.postgres.ca_file: needs an absolute path"},
           {"{dbname: c, sslmode: verify}",
            "catalog.postgres.sslmode: one of disable"},
           {"{dbname: c, sslmode: verify-full}",
            "catalog.postgres.ca_file: sslmode verify-full checks"},
       }) {
    auto config =
        ParseSchedulerConfig("catalog:\n  postgres: " + yaml + "\n", "s.yaml");
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_NE(config.status().message().find(want), std::string::npos)
        << config.status();
  }
}

TEST(SchedulerConfigTest, NamesThatBecomeStorePathsAreChecked) {
  for (const char* bad :
       {"deployments:\n  - {namespace: ../x, release: dx}\n",
        "deployments:\n  - {namespace: a, release: Dx}\n",
        "deployments:\n  - namespace: a\n    release: dx\n    databases:\n"
        "      - {dbname: x, name: ..}\n"}) {
    auto config = ParseSchedulerConfig(bad, "s.yaml");
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// Found by config_fuzz: a negative offline_after_heartbeats was reported
// as heartbeat_seconds, with no line.
TEST(SchedulerConfigTest, NegativeHeartbeatErrorsNameTheirKeyAndLine) {
  for (const std::string key :
       {"heartbeat_seconds", "offline_after_heartbeats"}) {
    auto config =
        ParseSchedulerConfig("stall_seconds: 60\n" + key + ": -1\n", "s.yaml");
    ASSERT_FALSE(config.ok()) << key;
    EXPECT_NE(config.status().message().find("s.yaml:2: " + key + ": "),
              std::string::npos)
        << config.status();
  }
}

TEST(SchedulerConfigTest, AgentForgetAfterTakesDaysAndHours) {
  auto config = ParseSchedulerConfig("agent_forget_after: 36h\n", "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(AgentForgetAfterSeconds(*config), 36 * 3600);
  EXPECT_EQ(AgentForgetAfterSeconds(v1::SchedulerConfig()), 86400)
      << "default: a day";
  for (const char* bad :
       {"agent_forget_after: 1y\n", "agent_forget_after: soon\n",
        "agent_forget_after: 0d\n"}) {
    auto rejected = ParseSchedulerConfig(bad, "s.yaml");
    ASSERT_FALSE(rejected.ok()) << bad;
    EXPECT_NE(rejected.status().message().find("agent_forget_after"),
              std::string::npos)
        << rejected.status();
  }
}

TEST(SchedulerConfigTest, AnS3StoreIsCheckedBeforeAnyConnection) {
  const std::string good =
      "store:\n"
      "  s3:\n"
      "    endpoint: https://s3.example:9000\n"
      "    bucket: dx-backups\n"
      "    prefix: prod/dx\n"
      "    access_key_file: /secrets/s3/access-key\n"
      "    secret_key_file: /secrets/s3/secret-key\n"
      "    path_style: true\n";
  auto config = ParseSchedulerConfig(good, "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->store().s3().bucket(), "dx-backups");

  struct Case {
    std::string from, to, says;
  };
  for (const Case& c : std::vector<Case>{
           {"https://s3.example:9000", "ftp://s3.example", "needs https://"},
           {"https://s3.example:9000", "http://s3.example:9000",
            "plain http is allowed only on a loopback address"},
           {"https://s3.example:9000", "https://s3.example:9000/path",
            "without a path"},
           {"https://s3.example:9000", "https://key:secret@s3.example",
            "credentials"},
           {"bucket: dx-backups", "bucket: DX_Backups", "S3 bucket name"},
           {"prefix: prod/dx", "prefix: /prod/", "relative path"},
           {"prefix: prod/dx", "prefix: prod/../x", "relative path"},
           {"access_key_file: /secrets/s3/access-key",
            "access_key_file: access-key", "absolute path"},
           {"    path_style: true\n", "    part_size_mib: 4\n", "between 5"},
           {"    path_style: true\n", "    object_lock: {mode: LOCKED}\n",
            "GOVERNANCE"},
           {"    path_style: true\n",
            "    object_lock: {mode: COMPLIANCE, margin: 1m}\n",
            "days and hours"}}) {
    std::string text = good;
    text.replace(text.find(c.from), c.from.size(), c.to);
    auto bad = ParseSchedulerConfig(text, "s.yaml");
    ASSERT_FALSE(bad.ok()) << c.to;
    EXPECT_NE(bad.status().message().find("s.yaml:"), std::string::npos)
        << bad.status();
    EXPECT_NE(bad.status().message().find("store.s3."), std::string::npos)
        << bad.status();
    EXPECT_NE(bad.status().message().find(c.says), std::string::npos)
        << c.to << ": " << bad.status();
  }
  std::string loopback = good;
  loopback.replace(loopback.find("https://s3.example:9000"), 23,
                   "http://127.0.0.1:9000");
  EXPECT_TRUE(ParseSchedulerConfig(loopback, "s.yaml").ok())
      << "plain http on loopback (a test server) is allowed";

  const std::string policy =
      "policies:\n"
      "  - name: p\n"
      "    selector: {namespaces: [ns]}\n"
      "    schedule: \"@daily\"\n"
      "    copy_to:\n"
      "      directory: /copies\n"
      "      s3: {endpoint: \"https://s3.example\", bucket: copies, "
      "access_key_file: /a, secret_key_file: /s}\n";
  auto both = ParseSchedulerConfig(policy, "s.yaml");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("policies[0].copy_to: takes a "
                                         "directory or an s3 bucket"),
            std::string::npos)
      << both.status();
  // Copies in the store's own key space would be removed by its start-up.
  for (const auto& [store_prefix, copy_prefix, refused] :
       std::vector<std::tuple<std::string, std::string, bool>>{
           {"prod", "prod/copies", true},
           {"", "copies", true},
           {"prod", "prod", true},
           {"prod", "production", false},
           {"prod", "copies", false}}) {
    const std::string text =
        "store:\n  s3: {endpoint: \"https://s3.example\", bucket: bkt, "
        "prefix: \"" +
        store_prefix +
        "\", access_key_file: /a, "
        "secret_key_file: /s}\n"
        "policies:\n"
        "  - name: p\n"
        "    selector: {namespaces: [ns]}\n"
        "    schedule: \"@daily\"\n"
        "    copy_to:\n"
        "      s3: {endpoint: \"https://s3.example\", bucket: bkt, prefix: \"" +
        copy_prefix + "\", access_key_file: /a, secret_key_file: /s}\n";
    auto checked = ParseSchedulerConfig(text, "s.yaml");
    EXPECT_EQ(checked.ok(), !refused)
        << store_prefix << " / " << copy_prefix << ": " << checked.status();
    if (refused && !checked.ok()) {
      EXPECT_NE(checked.status().message().find("overlaps store.s3's prefix"),
                std::string::npos)
          << checked.status();
    }
  }

  std::string bucket_only = policy;
  bucket_only.erase(bucket_only.find("      directory: /copies\n"), 26);
  EXPECT_TRUE(ParseSchedulerConfig(bucket_only, "s.yaml").ok())
      << ParseSchedulerConfig(bucket_only, "s.yaml").status();
}

TEST(SchedulerConfigTest, EncryptionKeysGoByNamespaceThenTheDefault) {
  auto config = ParseSchedulerConfig(
      "encryption:\n"
      "  keys:\n"
      "    - namespaces: [dx-prod, \"dx-stage-*\"]\n"
      "      recipients_file: /keys/prod.txt\n"
      "    - recipients_file: /keys/default.txt\n"
      "  identity_files: [/keys/prod.key]\n",
      "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  auto file_of = [&](const std::string& ns) -> std::string {
    const v1::EncryptionKey* key = EncryptionKeyFor(*config, ns);
    return key == nullptr ? "clear" : key->recipients_file();
  };
  EXPECT_EQ(file_of("dx-prod"), "/keys/prod.txt");
  EXPECT_EQ(file_of("dx-stage-eu"), "/keys/prod.txt");
  EXPECT_EQ(file_of("dx-dev"), "/keys/default.txt");

  auto only_prod = ParseSchedulerConfig(
      "encryption: {keys: [{namespaces: [dx-prod], recipients_file: /k}]}\n",
      "s.yaml");
  ASSERT_TRUE(only_prod.ok()) << only_prod.status();
  EXPECT_NE(EncryptionKeyFor(*only_prod, "dx-prod"), nullptr);
  EXPECT_EQ(EncryptionKeyFor(*only_prod, "dx-dev"), nullptr)
      << "a namespace no key covers is stored in clear";
  EXPECT_EQ(EncryptionKeyFor(v1::SchedulerConfig(), "dx-prod"), nullptr);

  struct Case {
    std::string text, key, says;
  };
  for (const Case& c : std::vector<Case>{
           {"encryption: {keys: [{recipients_file: keys.txt}]}\n",
            "encryption.keys[0].recipients_file", "absolute path"},
           {"encryption: {keys: [{recipients_file: /a}, "
            "{recipients_file: /b}]}\n",
            "encryption.keys[1].namespaces", "only one key may be the default"},
           {"encryption: {keys: [{namespaces: [\"\"], recipients_file: /a}]}\n",
            "encryption.keys[0].namespaces", "must not be empty"},
           {"encryption: {keys: [{recipients_file: /a}], "
            "identity_files: [id.txt]}\n",
            "encryption.identity_files[0]", "absolute path"},
           {"encryption: {identity_files: [/id.txt]}\n", "encryption.keys",
            "encrypt nothing"}}) {
    auto bad = ParseSchedulerConfig(c.text, "s.yaml");
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_NE(bad.status().message().find("s.yaml:1: " + c.key + ": "),
              std::string::npos)
        << bad.status();
    EXPECT_NE(bad.status().message().find(c.says), std::string::npos)
        << bad.status();
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
