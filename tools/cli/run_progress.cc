#include "tools/cli/run_progress.h"

#include <cctype>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/terminal_text.h"
#include "tools/cli/text_table.h"

namespace dxbackup::cli {
namespace {

// "SET_COMPLETE" -> "complete", "JOB_RUNNING" -> "running".
std::string StatusWord(v1::JobStatus status) {
  std::string name = v1::JobStatus_Name(status);
  name = name.substr(name.find('_') + 1);
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

class Lines : public RunProgress {
 public:
  explicit Lines(std::ostream* out) : out_(out) {}
  void Job(const v1::Job& job) override {
    std::string line =
        absl::StrCat(job.target(), ": ", StatusWord(job.status()));
    if (job.bytes() > 0) absl::StrAppend(&line, " ", HumanBytes(job.bytes()));
    if (!job.error().empty()) {
      absl::StrAppend(&line, " (",
                      job.error_code().empty() ? "" : job.error_code() + ": ",
                      job.error(), ")");
    }
    *out_ << Printable(line) << std::endl;
  }
  void Message(const std::string& text) override {
    *out_ << Printable(text) << std::endl;
  }

 private:
  std::ostream* out_;
};

class Live : public RunProgress {
 public:
  Live(std::ostream* out, SteadyNow now, int columns, int lines)
      : out_(out),
        now_(std::move(now)),
        columns_(columns),
        lines_(lines),
        fallback_(out) {}

  void Job(const v1::Job& job) override {
    if (overflowed_) return fallback_.Job(job);
    Row* row = nullptr;
    for (Row& r : rows_) {
      if (r.target == job.target()) row = &r;
    }
    if (row == nullptr) {
      row = &rows_.emplace_back();
      row->target = job.target();
    }
    row->status = job.status();
    row->error = job.error();
    row->expected = job.expected_bytes();
    if (job.bytes() > 0 && !row->started) {
      row->started = true;
      row->since = now_();
      row->since_bytes = job.bytes();
    }
    row->bytes = job.bytes();
    if (lines_ > 0 && static_cast<int>(rows_.size()) >= lines_ - 1) {
      // No room to redraw them all in place: a line per change from now.
      overflowed_ = true;
      *out_ << "\n";
      return fallback_.Job(job);
    }
    Redraw();
  }

  void Message(const std::string& text) override {
    if (overflowed_) return fallback_.Message(text);
    // The message goes where the rows were; the rows again below it.
    if (drawn_ > 0) *out_ << "\x1b[" << drawn_ << "A\r\x1b[J";
    *out_ << Fit(Printable(text)) << "\n";
    drawn_ = 0;
    Redraw();
  }

 private:
  struct Row {
    std::string target;
    v1::JobStatus status = v1::JOB_PENDING;
    std::string error;
    uint64_t bytes = 0, expected = 0;
    bool started = false;
    std::chrono::steady_clock::time_point since;
    uint64_t since_bytes = 0;
  };

  std::string Line(const Row& row) const {
    std::string line =
        absl::StrFormat("%-32s %-9s %10s", row.target, StatusWord(row.status),
                        HumanBytes(row.bytes));
    if (row.status == v1::JOB_RUNNING && row.started) {
      const double seconds =
          std::chrono::duration<double>(now_() - row.since).count();
      if (seconds >= 1 && row.bytes > row.since_bytes) {
        const double rate = (row.bytes - row.since_bytes) / seconds;
        absl::StrAppend(&line, "  ", HumanBytes(static_cast<uint64_t>(rate)),
                        "/s");
        if (row.expected > row.bytes) {
          absl::StrAppend(
              &line, "  ETA ",
              ShortDuration(
                  static_cast<int64_t>((row.expected - row.bytes) / rate) + 1));
        }
      }
    }
    if (!row.error.empty()) absl::StrAppend(&line, "  ", row.error);
    return Fit(Printable(line));
  }

  // `line` cut to one line of the terminal, never inside a UTF-8 sequence.
  std::string Fit(std::string line) const {
    if (columns_ <= 1 || line.size() < static_cast<size_t>(columns_)) {
      return line;
    }
    size_t end = static_cast<size_t>(columns_ - 1);
    while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80) {
      --end;
    }
    line.resize(end);
    return line;
  }

  void Redraw() {
    // Back to the first row drawn, then every row over its old line.
    if (drawn_ > 0) *out_ << "\x1b[" << drawn_ << "A";
    for (const Row& row : rows_) *out_ << "\r\x1b[2K" << Line(row) << "\n";
    drawn_ = rows_.size();
    out_->flush();
  }

  std::ostream* out_;
  SteadyNow now_;
  int columns_, lines_;
  Lines fallback_;
  bool overflowed_ = false;
  std::vector<Row> rows_;
  size_t drawn_ = 0;
};

}  // namespace

std::unique_ptr<RunProgress> LineProgress(std::ostream* out) {
  return std::make_unique<Lines>(out);
}

std::unique_ptr<RunProgress> LiveProgress(std::ostream* out, SteadyNow now,
                                          int columns, int lines) {
  return std::make_unique<Live>(out, std::move(now), columns, lines);
}

std::string ShortDuration(int64_t seconds) {
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) {
    return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  }
  return absl::StrFormat("%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
}

}  // namespace dxbackup::cli
