#include "markdown_html.h"

#include "markdown_lines.h"

#include <algorithm>
#include <map>
#include <vector>

namespace ossdesk::gui {
namespace {

const QStringList kVoidElements{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"};

// A tag at `at` ('<'): its name (lower case), whether it closes ("</x>"),
// and where it ends (past '>'); end 0 when no tag starts there.
struct Tag {
  QString name;
  bool closing = false;
  bool self_closed = false;
  qsizetype end = 0;
};

Tag tag_at(const QString& s, qsizetype at) {
  Tag tag;
  qsizetype i = at + 1;
  if (i < s.size() && s[i] == '/') {
    tag.closing = true;
    ++i;
  }
  const qsizetype name_start = i;
  if (i >= s.size() || !s[i].isLetter()) return tag;
  while (i < s.size() && (s[i].isLetterOrNumber() || s[i] == '-')) ++i;
  if (i < s.size() && !(s[i] == '>' || s[i] == '/' || s[i].isSpace())) return tag;  // "std::map<std::string>"
  const qsizetype close = s.indexOf('>', i);
  const qsizetype next_open = s.indexOf('<', i);
  if (close < 0 || (next_open > 0 && next_open < close)) return tag;
  tag.name = s.mid(name_start, i - name_start).toLower();
  tag.self_closed = s[close - 1] == '/';
  tag.end = close + 1;
  return tag;
}

// An autolink at `at`: "<scheme:...>" or "<name@host>"; its end (past '>'), or 0.
qsizetype autolink_end(const QString& s, qsizetype at) {
  const qsizetype close = s.indexOf('>', at + 1);
  if (close < 0) return 0;
  const QString inside = s.mid(at + 1, close - at - 1);
  if (inside.isEmpty() || inside.contains(' ') || inside.contains('<')) return 0;
  const qsizetype colon = inside.indexOf(':');
  const bool scheme = colon >= 2 && colon <= 32 && inside[0].isLetter();
  const bool email = inside.indexOf('@') > 0 && inside.indexOf('@') < inside.size() - 1;
  return scheme || email ? close + 1 : 0;
}

// A line (without its indentation) that starts an HTML block ending at a
// marker rather than a blank line (CommonMark types 1 to 5: <pre>, <script>,
// <style>, <textarea>, a comment, <?...?>, <!...>, CDATA): the marker, or "".
QString html_block_end_marker(const QString& trimmed) {
  if (trimmed.startsWith(QLatin1String("<!--"))) return "-->";
  if (trimmed.startsWith(QLatin1String("<![CDATA["))) return "]]>";
  if (trimmed.startsWith(QLatin1String("<?"))) return "?>";
  if (trimmed.startsWith(QLatin1String("<!")) && trimmed.size() > 2 && trimmed[2].isLetter()) return ">";
  const Tag tag = tag_at(trimmed, 0);
  for (const char* name : {"pre", "script", "style", "textarea"})
    if (!tag.closing && tag.name == QLatin1String(name)) return QString("</%1>").arg(name);
  return {};
}

// What the scanner meets at a '<' outside code: an element's tag (void
// elements excluded), and where.
struct TagEvent {
  qsizetype line, at;
  bool closing;
};

// Calls `on_tag(at, Tag)` for each '<' of `line` outside code spans and
// escapes, which says whether the tag was taken (else only its '<' was,
// and the rest is text), and `on_text(from, to)` for the text between;
// comments closed on the line and autolinks count as text.
template <typename OnTag, typename OnText>
void scan(const QString& line, OnTag on_tag, OnText on_text) {
  qsizetype text_from = 0;
  for (qsizetype i = 0; i < line.size();) {
    const QChar c = line[i];
    if (c == '`') {  // a code span: to the same run of backticks on the line, else the run is text
      qsizetype run = 0;
      while (i + run < line.size() && line[i + run] == '`') ++run;
      const qsizetype close = line.indexOf(QString(run, '`'), i + run);
      i = close < 0 ? i + run : close + run;
    } else if (c == '\\') {
      i += 2;
    } else if (c != '<') {
      ++i;
    } else if (line.mid(i, 4) == QLatin1String("<!--") && line.indexOf(QLatin1String("-->"), i + 4) > 0) {
      i = line.indexOf(QLatin1String("-->"), i + 4) + 3;
    } else if (const qsizetype end = autolink_end(line, i)) {
      i = end;
    } else {
      on_text(text_from, i);
      const Tag tag = tag_at(line, i);
      i = on_tag(i, tag) ? tag.end : i + 1;
      text_from = i;
    }
  }
  on_text(text_from, line.size());
}

// The prose, line by line: which lines are left as written (code, HTML
// blocks of types 1-5), and for the others every element tag in document
// order, so that an opening tag can ask whether it is closed later
// (closed_later says where it may be).
class Document {
 public:
  explicit Document(const QStringList& lines) : lines_(lines), as_written_(lines.size(), false) {
    classify();
    for (qsizetype l = 0; l < lines_.size(); ++l) {
      if (as_written_[l]) continue;
      scan(lines_[l], [&](qsizetype at, const Tag& tag) {
        if (tag.end == 0) return false;
        if (!tag.self_closed && !kVoidElements.contains(tag.name)) events_[tag.name].push_back({l, at, tag.closing});
        return true;
      }, [](qsizetype, qsizetype) {});
    }
  }

  QStringList made_safe() {
    QStringList out;
    out.reserve(lines_.size());
    for (qsizetype l = 0; l < lines_.size(); ++l) out << (as_written_[l] ? lines_[l] : line_made_safe(l));
    return out;
  }

 private:
  // Lines to leave alone: indented code outside lists, and HTML blocks that
  // run to an end marker (<pre>, <script>, <style>, comments, ...).
  void classify() {
    bool in_list = false, in_code = false, after_blank = true;
    QString block_end;
    for (qsizetype l = 0; l < lines_.size(); ++l) {
      const QString& line = lines_[l];
      const QString trimmed = line.trimmed();
      if (!block_end.isEmpty()) {
        if (line.contains(block_end, Qt::CaseInsensitive)) block_end.clear();
        as_written_[l] = true;
        continue;
      }
      const int indent = indent_of(line);
      if (indent <= 3 && !(block_end = html_block_end_marker(trimmed)).isEmpty()) {
        if (trimmed.indexOf(block_end, 2, Qt::CaseInsensitive) > 0) block_end.clear();  // ends on its first line
        as_written_[l] = true;
        after_blank = false;
        continue;
      }
      if (trimmed.isEmpty()) {
        after_blank = true;
        continue;
      }
      if (indent == 0) in_list = list_item_start(trimmed) || (in_list && !after_blank);
      in_code = !in_list && indent >= 4 && (after_blank || in_code);
      as_written_[l] = in_code;
      after_blank = false;
    }
  }

  // Whether the element opened at (l, at) is closed later, nesting counted:
  // on its own line, or anywhere after when it starts its line. The view
  // lays out each block (a paragraph, a list item, a table cell) in a text of
  // its own, so an element may only span lines where the prose stays one
  // text, which a line starting with a tag makes it (markdown_blocks.cpp:
  // raw HTML may hold blank lines).
  bool closed_later(const QString& name, qsizetype l, qsizetype at) const {
    const auto found = events_.find(name);
    if (found == events_.end()) return false;
    const std::vector<TagEvent>& events = found->second;
    const QString& line = lines_[l];
    const bool starts_line = indent_of(line) <= 3 && line.left(at).trimmed().isEmpty();
    auto it = std::find_if(events.begin(), events.end(), [&](const TagEvent& e) { return e.line == l && e.at == at; });
    int depth = 0;
    for (; it != events.end() && (starts_line || it->line == l); ++it)
      if ((depth += it->closing ? -1 : 1) == 0) return true;
    return false;
  }

  QString line_made_safe(qsizetype l) {
    const QString& line = lines_[l];
    if (!line.contains('<')) return line;
    QString out;
    out.reserve(line.size() + 8);
    scan(line, [&](qsizetype at, const Tag& tag) {
      const QString text = line.mid(at, tag.end - at);
      if (tag.end > 0 && !tag.closing && kVoidElements.contains(tag.name)) {
        out += tag.self_closed ? text : text.chopped(1) + "/>";
        return true;
      }
      bool kept = false;
      if (tag.end > 0 && tag.closing) {
        kept = open_.contains(tag.name);
        if (kept) open_.remove(open_.lastIndexOf(tag.name), open_.size() - open_.lastIndexOf(tag.name));
      } else if (tag.end > 0) {
        kept = tag.self_closed || closed_later(tag.name, l, at);
        if (kept && !tag.self_closed) open_ << tag.name;
      }
      // "&lt;" rather than "\\<": it also reads as "<" inside an HTML block.
      out += kept ? text : QLatin1String("&lt;");
      return kept;
    }, [&](qsizetype from, qsizetype to) { out += line.mid(from, to - from); });
    return out;
  }

  const QStringList& lines_;
  std::vector<bool> as_written_;
  std::map<QString, std::vector<TagEvent>> events_;
  QStringList open_;  // elements kept open so far, innermost last
};

}  // namespace

QString inline_html_made_safe(const QString& line) { return Document({line}).made_safe().front(); }

QStringList html_made_safe(const QStringList& prose_lines) { return Document(prose_lines).made_safe(); }

}  // namespace ossdesk::gui
