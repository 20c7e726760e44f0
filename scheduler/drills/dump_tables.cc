#include "scheduler/drills/dump_tables.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "scheduler/postgres/pg_connection.h"
#include "scheduler/postgres/pg_dump_runner.h"
#include "scheduler/postgres/pg_tools.h"
#include "scheduler/store/artifact_pipe.h"

namespace dxbackup::scheduler {

std::vector<DumpTable> ParseTableData(const std::string& listing) {
  std::vector<DumpTable> tables;
  constexpr absl::string_view kMarker = " TABLE DATA ";
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (line.empty() || line[0] == ';') continue;  // comments
    const size_t at = line.find(kMarker);
    if (at == absl::string_view::npos) continue;
    std::vector<std::string> words =
        absl::StrSplit(line.substr(at + kMarker.size()), ' ');
    if (words.size() < 3) continue;  // schema, name..., owner
    DumpTable t;
    t.schema = words.front();
    t.name = absl::StrJoin(words.begin() + 1, words.end() - 1, " ");
    tables.push_back(std::move(t));
  }
  return tables;
}

absl::StatusOr<std::vector<DumpTable>> TablesInDump(ArtifactStore& store,
                                                    const crypto::KeyRing& keys,
                                                    const v1::Artifact& dump) {
  absl::StatusOr<std::unique_ptr<ArtifactReader>> stored =
      keys.OpenPlain(store, dump, {});
  if (!stored.ok()) return stored.status();
  std::unique_ptr<ArtifactReader> input = PgRestoreInput(dump, stored->get());
  absl::StatusOr<PgTool> tool = FindNewestPgTool("pg_restore");
  if (!tool.ok()) return tool.status();
  absl::StatusOr<common::ProcessResult> listed =
      RunProcessReading({{tool->path, "--list"}, {}}, *input);
  if (!listed.ok()) return listed.status();
  if (listed->exit_code != 0) {
    return absl::DataLossError(absl::StrCat("pg_restore --list cannot read ",
                                            dump.path(), ": ",
                                            listed->stderr_text));
  }
  return ParseTableData(listed->stdout_text);
}

absl::StatusOr<std::vector<TableCount>> CountRows(
    const v1::Database& db, const std::string& dbname,
    const std::vector<DumpTable>& tables) {
  absl::StatusOr<std::string> password = ReadPassword(db);
  if (!password.ok()) return password.status();
  absl::StatusOr<std::unique_ptr<PgConnection>> pg =
      PgConnection::Open(db, *password, dbname);
  if (!pg.ok()) return pg.status();
  std::vector<TableCount> counts;
  for (const DumpTable& t : tables) {
    TableCount c;
    c.table = t;
    auto rows = (*pg)->Query(absl::StrCat("SELECT count(*) FROM ",
                                          (*pg)->QuoteIdentifier(t.schema), ".",
                                          (*pg)->QuoteIdentifier(t.name)));
    if (rows.ok() && !rows->empty() && !rows->front().empty()) {
      c.rows = std::stoll(rows->front().front());
    } else {
      c.error = rows.ok() ? "no answer" : std::string(rows.status().message());
    }
    counts.push_back(std::move(c));
  }
  return counts;
}

}  // namespace dxbackup::scheduler
