// TextTable prints rows in aligned columns, the first row a header:
//
//   TextTable t({"SET", "STATUS"});
//   t.AddRow({"20261128T1645Z-ab12", "SET_COMPLETE"});
//   t.Print(std::cout);
#ifndef DXBACKUP_TOOLS_CLI_TEXT_TABLE_H_
#define DXBACKUP_TOOLS_CLI_TEXT_TABLE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace dxbackup::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  // Cells are shown through Printable(): no control character reaches the
  // terminal.
  void AddRow(std::vector<std::string> row);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "1.5 GiB", "312 KiB", "17 B"
std::string HumanBytes(uint64_t bytes);
// "2026-11-28 16:45:00Z", or "-" for 0.
std::string HumanTime(int64_t unix_seconds);
// "1h02m", "3m05s", "42s"
std::string HumanDuration(int64_t seconds);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_TEXT_TABLE_H_
