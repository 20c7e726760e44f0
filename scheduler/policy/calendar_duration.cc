#include "scheduler/policy/calendar_duration.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler {

std::string CalendarDuration::ToString() const {
  std::string out;
  if (years) absl::StrAppend(&out, years, "y");
  if (months) absl::StrAppend(&out, months, "m");
  if (days) absl::StrAppend(&out, days, "d");
  if (hours) absl::StrAppend(&out, hours, "h");
  return out.empty() ? "0h" : out;
}

absl::StatusOr<CalendarDuration> CalendarDuration::Parse(
    const std::string& text) {
  CalendarDuration d;
  std::string seen;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i == start || i == text.size() || i - start > 6) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration \"", text,
                       "\" is not like 1y5m7d2h (years, months, days, "
                       "hours)"));
    }
    const int value = std::stoi(text.substr(start, i - start));
    const char unit = text[i++];
    if (seen.find(unit) != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "duration \"", text, "\" names '", std::string(1, unit), "' twice"));
    }
    seen.push_back(unit);
    switch (unit) {
      case 'y':
        d.years = value;
        break;
      case 'm':
        d.months = value;
        break;
      case 'd':
        d.days = value;
        break;
      case 'h':
        d.hours = value;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "duration \"", text, "\": unit '", std::string(1, unit),
            "' is not one of y, m, d, h (m is months)"));
    }
  }
  return d;
}

absl::Time Before(absl::Time t, const CalendarDuration& d, absl::TimeZone tz) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, tz);
  const absl::CivilSecond moved(c.year() - d.years, c.month() - d.months,
                                c.day() - d.days, c.hour(), c.minute(),
                                c.second());
  return absl::FromCivil(moved, tz) - absl::Hours(d.hours);
}

}  // namespace dxbackup::scheduler
