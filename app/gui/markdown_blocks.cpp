#include "markdown_blocks.h"

#include <QStringList>

namespace ossdesk::gui {
namespace {

// A fence line: up to three spaces, then three or more ` or ~.
bool fence(const QString& line, QChar* mark, int* length, QString* info) {
  int i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return false;
  const QChar c = line[i];
  int n = 0;
  while (i + n < line.size() && line[i + n] == c) ++n;
  if (n < 3) return false;
  *mark = c;
  *length = n;
  *info = line.mid(i + n).trimmed();
  return true;
}

// A line that may start a list item: a bullet (- + *) or a number of up to
// nine digits and . or ), then a space or the end of the line.
bool list_item_start(const QString& line) {
  if (line.isEmpty()) return false;
  if (line[0] == '-' || line[0] == '+' || line[0] == '*') return line.size() == 1 || line[1] == ' ' || line[1] == '\t';
  int digits = 0;
  while (digits < line.size() && digits < 10 && line[digits].isDigit()) ++digits;
  if (digits == 0 || digits > 9 || digits >= line.size() || (line[digits] != '.' && line[digits] != ')')) return false;
  return digits + 1 == line.size() || line[digits + 1] == ' ' || line[digits + 1] == '\t';
}

// The bullet of a list item line ('-', '+' or '*'); null for a numbered item.
QChar bullet_of(const QString& item_line) {
  const QChar c = item_line[0];
  return c == '-' || c == '+' || c == '*' ? c : QChar();
}

// A bullet list is cut before every this-many-th item, so a long one is not
// laid out whole on every streamed token. Numbered lists stay whole: Qt 6.4
// cannot start a list at a number other than 1.
constexpr int kListItemsPerBlock = 16;

// Lines whose meaning reaches past blank lines: a link reference definition
// ("[name]: url", used anywhere in the text) and raw HTML (a <pre>, a comment
// or a <div> may hold blank lines). Prose with any of them stays one block.
bool reaches_past_blank_lines(const QString& line) {
  int i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size()) return false;
  if (line[i] == '<') return true;
  if (line[i] != '[') return false;
  const int close = line.indexOf(QLatin1String("]:"), i + 1);
  return close > i + 1;
}

// Prose lines cut into its top-level blocks: before each line that starts a
// new block at the left margin after a blank line (a paragraph, a heading, a
// list, a table, a quote, a rule), where every block before it is closed, so
// each piece means on its own what it meant in the whole. An item of a list
// that is still open stays with it (a loose list is one list), an indented
// line with what it continues. Keeping lines together is always safe; only a
// cut has to be right. While an answer streams only its last piece changes,
// and the view lays out that piece again rather than the whole answer.
void append_prose(QVector<MarkdownBlock>& out, const QStringList& lines) {
  auto push = [&out](QStringList piece, bool continues_list) {  // without its trailing blank lines, which mean nothing
    while (!piece.isEmpty() && piece.back().trimmed().isEmpty()) piece.removeLast();
    if (!piece.isEmpty()) out.push_back({MarkdownBlock::Prose, piece.join('\n'), {}, continues_list});
  };
  for (const QString& line : lines)
    if (reaches_past_blank_lines(line)) return push(lines, false);
  QStringList piece;
  bool piece_continues_list = false;
  bool after_blank = false;
  bool open_list = false;  // a list item began at the margin, and no paragraph at the margin has closed it since
  QChar list_bullet;       // the open list's bullet (null: numbered)
  int items_in_piece = 0;  // of the open list
  for (const QString& line : lines) {
    const bool blank = line.trimmed().isEmpty();
    const bool at_margin = !blank && !line[0].isSpace();
    const bool item = at_margin && list_item_start(line);
    const QChar bullet = item ? bullet_of(line) : QChar();
    const bool ends_block = after_blank && at_margin && !(item && open_list);
    // An item with the open list's bullet continues that list, so the piece
    // cut before it still means a list of the same kind (a different bullet
    // would start a new list anyway).
    const bool next_items = item && open_list && !bullet.isNull() && bullet == list_bullet &&
                            items_in_piece >= kListItemsPerBlock;
    if ((ends_block || next_items) && !piece.isEmpty()) {
      push(piece, piece_continues_list);
      piece.clear();
      piece_continues_list = next_items && !after_blank;
      items_in_piece = 0;
    }
    piece << line;
    if (item) {
      if (!open_list || bullet != list_bullet) items_in_piece = 0;
      list_bullet = bullet;
      open_list = true;
      ++items_in_piece;
    } else if (at_margin && after_blank) {
      open_list = false;
    }
    after_blank = blank;
  }
  push(piece, piece_continues_list);
}

}  // namespace

QVector<MarkdownBlock> split_markdown(const QString& markdown) {
  QVector<MarkdownBlock> out;
  const QStringList lines = markdown.split('\n');
  QStringList prose, code;
  bool in_code = false;
  QChar open_mark;
  int open_length = 0;
  QString language;
  auto flush_prose = [&] {
    append_prose(out, prose);
    prose.clear();
  };
  for (const QString& line : lines) {
    QChar mark;
    int length = 0;
    QString info;
    const bool is_fence = fence(line, &mark, &length, &info);
    if (!in_code) {
      if (is_fence && !(mark == '`' && info.contains('`'))) {
        flush_prose();
        in_code = true;
        open_mark = mark;
        open_length = length;
        language = info.section(' ', 0, 0);
        continue;
      }
      prose << line;
    } else if (is_fence && mark == open_mark && length >= open_length && info.isEmpty()) {
      out.push_back({MarkdownBlock::Code, code.join('\n'), language});
      code.clear();
      in_code = false;
    } else {
      code << line;
    }
  }
  if (in_code) out.push_back({MarkdownBlock::Code, code.join('\n'), language});
  else flush_prose();
  return out;
}

}  // namespace ossdesk::gui
