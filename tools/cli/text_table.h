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

#include "common/human_units.h"

namespace dxbackup::cli {

using common::HumanBytes;
using common::HumanDuration;
using common::HumanTime;

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

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_TEXT_TABLE_H_
