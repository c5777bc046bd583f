#include "markdown_html.h"

#include <QVector>

namespace ossdesk::gui {
namespace {

const QStringList kVoidElements{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"};

// CommonMark's HTML block type 6: these names start a block that runs to a blank line.
const QStringList kBlockElements{
    "address", "article", "aside",  "base",     "basefont", "blockquote", "body",     "caption", "center", "col",
    "colgroup", "dd",     "details", "dialog",  "dir",      "div",        "dl",       "dt",      "fieldset", "figcaption",
    "figure",  "footer",  "form",   "frame",    "frameset", "h1",         "h2",       "h3",      "h4",     "h5",
    "h6",      "head",    "header", "hr",       "html",     "iframe",     "legend",   "li",      "link",   "main",
    "menu",    "menuitem", "nav",   "noframes", "ol",       "optgroup",   "option",   "p",       "param",  "search",
    "section", "summary", "table",  "tbody",    "td",       "tfoot",      "th",       "thead",   "title",  "tr",
    "track",   "ul"};

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

int indent_of(const QString& line) {
  int column = 0;
  for (QChar c : line) {
    if (c == ' ') ++column;
    else if (c == '\t') column = (column / 4 + 1) * 4;
    else break;
  }
  return column;
}

bool starts_list_item(const QString& trimmed) {
  if (trimmed.isEmpty()) return false;
  if ((trimmed[0] == '-' || trimmed[0] == '+' || trimmed[0] == '*') && (trimmed.size() == 1 || trimmed[1] == ' ')) return true;
  qsizetype digits = 0;
  while (digits < trimmed.size() && digits < 10 && trimmed[digits].isDigit()) ++digits;
  return digits > 0 && digits < 10 && digits < trimmed.size() && (trimmed[digits] == '.' || trimmed[digits] == ')');
}

// A line (without its indentation) that starts an HTML block ending at a
// blank line: CommonMark types 6 and 7.
bool starts_html_block(const QString& trimmed) {
  if (!trimmed.startsWith('<')) return false;
  const Tag tag = tag_at(trimmed, 0);
  if (tag.end == 0) return false;
  if (kBlockElements.contains(tag.name)) return true;
  return trimmed.mid(tag.end).trimmed().isEmpty();  // one tag alone on its line
}

// A line (without its indentation) that starts an HTML block ending at a
// marker rather than a blank line (CommonMark types 1 to 5: <pre>, <script>,
// <style>, <textarea>, a comment, <?...?>, <!...>, CDATA): the marker, or "".
QString html_block_end_marker(const QString& trimmed) {
  if (trimmed.startsWith(QLatin1String("<!--"))) return "-->";
  if (trimmed.startsWith(QLatin1String("<![CDATA["))) return "]]>";
  if (trimmed.startsWith(QLatin1String("<?"))) return "?>";
  if (trimmed.startsWith(QLatin1String("<!")) && trimmed.size() > 2 && trimmed[2].isLetter()) return ">";
  for (const char* name : {"pre", "script", "style", "textarea"}) {
    const Tag tag = tag_at(trimmed, 0);
    if (!tag.closing && tag.name == QLatin1String(name)) return QString("</%1>").arg(name);
  }
  return {};
}

// Whether the element `open` starts is closed later on `line`, counting the
// same elements opened and closed in between (Qt waits for the end tag that
// matches, so "a<b and c>d, <b>bold</b>" still loses its end).
bool closed_later(const QString& line, const Tag& open) {
  int depth = 1;
  for (qsizetype i = line.indexOf('<', open.end); i >= 0; i = line.indexOf('<', i + 1)) {
    const Tag tag = tag_at(line, i);
    if (tag.end == 0 || tag.name != open.name || tag.self_closed) continue;
    depth += tag.closing ? -1 : 1;
    if (depth == 0) return true;
  }
  return false;
}

}  // namespace

QString inline_html_made_safe(const QString& line) {
  if (!line.contains('<')) return line;
  QString out;
  out.reserve(line.size() + 8);
  QStringList open;  // elements kept open so far on this line, innermost last
  for (qsizetype i = 0; i < line.size();) {
    const QChar c = line[i];
    if (c == '`') {  // a code span: as written, to the same run of backticks
      qsizetype run = 0;
      while (i + run < line.size() && line[i + run] == '`') ++run;
      const qsizetype close = line.indexOf(QString(run, '`'), i + run);
      const qsizetype end = close < 0 ? i + run : close + run;
      out += line.mid(i, end - i);
      i = end;
      continue;
    }
    if (c == '\\' && i + 1 < line.size()) {  // an escape stays one
      out += line.mid(i, 2);
      i += 2;
      continue;
    }
    if (c != '<') {
      out += c;
      ++i;
      continue;
    }
    if (line.mid(i, 4) == QLatin1String("<!--")) {
      const qsizetype close = line.indexOf(QLatin1String("-->"), i + 4);
      if (close > 0) {
        out += line.mid(i, close + 3 - i);
        i = close + 3;
        continue;
      }
    } else if (const qsizetype end = autolink_end(line, i)) {
      out += line.mid(i, end - i);
      i = end;
      continue;
    } else if (const Tag tag = tag_at(line, i); tag.end > 0) {
      const QString text = line.mid(i, tag.end - i);
      if (!tag.closing && kVoidElements.contains(tag.name)) {
        out += tag.self_closed ? text : text.chopped(1) + "/>";
        i = tag.end;
        continue;
      }
      const bool kept = tag.closing ? open.contains(tag.name) : (tag.self_closed || closed_later(line, tag));
      if (kept) {
        if (tag.closing) open.remove(open.lastIndexOf(tag.name), open.size() - open.lastIndexOf(tag.name));
        else if (!tag.self_closed) open << tag.name;
        out += text;
        i = tag.end;
        continue;
      }
    }
    out += QLatin1String("\\<");
    ++i;
  }
  return out;
}

QStringList html_made_safe(const QStringList& prose_lines) {
  QStringList out;
  out.reserve(prose_lines.size());
  bool html_block = false, in_list = false, in_code = false, after_blank = true;
  QString block_end;  // an HTML block of types 1-5 runs to the line holding this
  for (const QString& line : prose_lines) {
    const QString trimmed = line.trimmed();
    if (!block_end.isEmpty()) {
      if (line.contains(block_end, Qt::CaseInsensitive)) block_end.clear();
      out << line;
      continue;
    }
    if (indent_of(line) <= 3 && !(block_end = html_block_end_marker(trimmed)).isEmpty()) {
      if (trimmed.indexOf(block_end, 2, Qt::CaseInsensitive) > 0) block_end.clear();  // ends on its first line
      after_blank = false;
      out << line;
      continue;
    }
    if (trimmed.isEmpty()) {
      html_block = false;
      after_blank = true;
      out << line;
      continue;
    }
    const int indent = indent_of(line);
    if (indent == 0) in_list = starts_list_item(trimmed) || (in_list && !after_blank);
    in_code = !in_list && indent >= 4 && (after_blank || in_code);
    after_blank = false;
    if (!html_block && !in_code && indent <= 3 && starts_html_block(trimmed)) html_block = true;
    out << (html_block || in_code ? line : inline_html_made_safe(line));
  }
  return out;
}

}  // namespace ossdesk::gui
