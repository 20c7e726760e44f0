// Printable makes text that came from agents or the catalog safe to show
// on a terminal: control characters (C0 and DEL: escape sequences, and a
// carriage return or newline that would forge a line; C1, U+0080-U+009F,
// where 0x9b starts a sequence on many terminals) become visible escapes
// ("\x1b", "\u009b"). Everything else, non-ASCII names included, comes back
// as it was. The text is UTF-8 (protobuf strings are); a stray byte that is
// not is escaped too. Pure; thread-safe.
#ifndef DXBACKUP_TOOLS_CLI_TERMINAL_TEXT_H_
#define DXBACKUP_TOOLS_CLI_TERMINAL_TEXT_H_

#include <string>
#include <string_view>

namespace dxbackup::cli {

std::string Printable(std::string_view text);
// A log's lines, each Printable, each ending in a newline (the last one
// too): its newlines kept, nothing else of its control characters.
std::string PrintableLines(std::string_view text);

}  // namespace dxbackup::cli

#endif  // DXBACKUP_TOOLS_CLI_TERMINAL_TEXT_H_
