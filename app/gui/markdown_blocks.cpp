#include "markdown_blocks.h"

#include "markdown_html.h"
#include "markdown_lines.h"

#include <QStringList>

#include <optional>

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

// The bullet of a list item line ('-', '+' or '*'); null for a numbered item.
QChar bullet_of(const QString& item_line) {
  const QChar c = item_line[0];
  return c == '-' || c == '+' || c == '*' ? c : QChar();
}

// A bullet list is cut before every this-many-th item, so a long one is not
// laid out whole on every streamed token. (A numbered list is cut before
// every item, see append_prose.)
constexpr int kListItemsPerBlock = 16;

// The line of a numbered list item: its number, its delimiter (. or )), its
// content, and the column that content starts at, which the item's indented
// lines share (CommonMark: 1-4 spaces after the delimiter count; with none,
// an empty item, or more, a code block in the item, the content starts one
// column after it).
struct NumberedItem {
  int number = 0;
  QChar delimiter;
  QString content;
  int content_column = 0;
};

std::optional<NumberedItem> numbered_item(const QString& line) {
  if (!list_item_start(line) || !bullet_of(line).isNull()) return std::nullopt;
  int digits = 0;
  while (line[digits].isDigit()) ++digits;
  NumberedItem item{line.left(digits).toInt(), line[digits], {}, digits + 2};
  int i = digits + 1, column = digits + 1;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) column = column_after(line[i++], column);
  const int gap = column - (digits + 1);
  if (i == line.size()) return item;  // an empty item, so far
  if (gap <= 4) {
    item.content = line.mid(i);
    item.content_column = column;
  } else {
    item.content = QString(gap - 1, ' ') + line.mid(i);
  }
  return item;
}

// `line` without up to `columns` columns of leading white space.
QString dedented(const QString& line, int columns) {
  int i = 0, column = 0;
  while (i < line.size() && column < columns && (line[i] == ' ' || line[i] == '\t')) {
    const int next = column_after(line[i], column);
    if (next > columns) return QString(next - columns, ' ') + line.mid(i + 1);  // the rest of a tab
    column = next;
    ++i;
  }
  return line.mid(i);
}

// A line at the left margin that starts a block of its own even right under
// a paragraph, so it cannot be that paragraph's lazy continuation: a bullet
// item, a numbered item numbered 1, an ATX heading, a quote, a table row, a
// thematic break.
bool interrupts_paragraph(const QString& line) {
  if (list_item_start(line)) return !bullet_of(line).isNull() || numbered_item(line)->number == 1;
  if (line[0] == '>' || line[0] == '|') return true;
  int hashes = 0;
  while (hashes < line.size() && line[hashes] == '#') ++hashes;
  if (hashes >= 1 && hashes <= 6 && (hashes == line.size() || line[hashes] == ' ')) return true;
  const QString bare = QString(line).remove(' ').remove('\t');
  return bare.size() >= 3 && (bare == QString(bare.size(), '-') || bare == QString(bare.size(), '*') || bare == QString(bare.size(), '_'));
}

// A table row's cells (GFM): the pipes at either end are dropped, a pipe
// escaped as \| belongs to its cell, and each cell is trimmed.
QStringList table_cells(const QString& line) {
  QString row = line.trimmed();
  if (row.startsWith('|')) row.remove(0, 1);
  if (row.endsWith('|') && !row.endsWith(QLatin1String("\\|"))) row.chop(1);
  QStringList cells;
  QString cell;
  for (qsizetype i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (row[i] == '|') {
      cells << cell.trimmed();
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  cells << cell.trimmed();
  return cells;
}

// A table's delimiter row ("|---|:--:|--:|"): each column's alignment as
// MarkdownBlock::align spells it; nullopt when the line is not one.
std::optional<QString> table_alignment(const QString& line) {
  if (!line.contains('|')) return std::nullopt;
  QString align;
  for (const QString& cell : table_cells(line)) {
    const bool left = cell.startsWith(':'), right = cell.endsWith(':');
    const QString dashes = cell.mid(left ? 1 : 0, cell.size() - (left ? 1 : 0) - (right ? 1 : 0));
    if (dashes.isEmpty() || dashes != QString(dashes.size(), '-')) return std::nullopt;
    align += left && right ? 'c' : right ? 'r' : left ? 'l' : '-';
  }
  return align;
}

bool atx_heading(const QString& line) { return line.startsWith('#') && interrupts_paragraph(line); }

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
// each piece means on its own what it meant in the whole. An item of a bullet
// list that is still open stays with it (a loose list is one list), an
// indented line with what it continues. Keeping lines together is always
// safe; only a cut has to be right. While an answer streams only its last
// piece changes, and the view lays out that piece again rather than the whole
// answer.
//
// A numbered list at the margin is cut before each of its items instead, and
// each item keeps its number apart (MarkdownBlock::marker), counted as
// CommonMark counts: from the first item's number, whatever the others say.
// It starts where a block may start (after a blank line, at the top, under a
// heading) or where it interrupts a paragraph, which only a list starting at 1
// may do. An item holds its indented and blank lines and lines that continue
// its last paragraph; a line at the margin after a blank one, or one that
// would interrupt a paragraph, ends the list. (One difference from CommonMark:
// a line indented less than the item's content, after a blank line, stays in
// the item, as its writer meant, where CommonMark would end the list.)
//
// `lines` are the prose made safe for Qt (markdown_html.h), `written` the
// same lines as the answer has them: a table's text, which a copy takes, is
// its lines as written.
void append_prose(QVector<MarkdownBlock>& out, const QStringList& lines, const QStringList& written) {
  qsizetype table_first = 0;  // the line the table being collected starts at
  auto push = [&](QStringList piece, bool continues_list, const QString& marker, const QString& table_align) {
    while (!piece.isEmpty() && piece.back().trimmed().isEmpty()) piece.removeLast();  // trailing blank lines mean nothing
    if (!table_align.isEmpty()) {  // header, delimiter row, rows: consecutive lines
      MarkdownBlock table{MarkdownBlock::Table, written.mid(table_first, piece.size()).join('\n'), {}};
      table.align = table_align;
      for (qsizetype i = 0; i < piece.size(); ++i) {
        if (i == 1) continue;
        QStringList cells = table_cells(piece[i]);
        cells.resize(table_align.size());  // GFM: missing cells are empty, extra ones dropped
        for (QString& cell : cells) cell = inline_html_made_safe(cell);  // each cell is a text of its own
        table.rows << cells;
      }
      out.push_back(table);
      return;
    }
    // An item is drawn even while it is empty: its number has come, its text not yet.
    if (!piece.isEmpty() || !marker.isEmpty()) out.push_back({MarkdownBlock::Prose, piece.join('\n'), {}, continues_list, marker});
  };
  for (const QString& line : lines)
    if (reaches_past_blank_lines(line)) return push(lines, false, {}, {});
  QStringList piece;
  bool piece_continues_list = false;
  QString piece_marker;  // the piece is an item of a numbered list
  QString piece_align;   // the piece is a table with these columns
  auto cut = [&](bool continues_list, const QString& marker) {
    push(piece, piece_continues_list, piece_marker, piece_align);
    piece.clear();
    piece_continues_list = continues_list;
    piece_marker = marker;
    piece_align.clear();
  };
  bool after_blank = false;
  bool after_heading = false;
  bool open_list = false;  // a bullet list item began at the margin, and no paragraph at the margin has closed it since
  QChar list_bullet;       // the open bullet list's bullet
  int items_in_piece = 0;  // of the open bullet list
  bool numbered_open = false;  // the piece is an item of a numbered list that has not ended
  QChar numbered_delimiter;
  int next_number = 0;
  int item_column = 0;  // where the open item's content starts
  for (qsizetype at = 0; at < lines.size(); ++at) {
    const QString& line = lines[at];
    const bool blank = line.trimmed().isEmpty();
    const bool at_margin = !blank && !line[0].isSpace();
    if (!piece_align.isEmpty()) {
      // A table's rows go on to a blank line or a line without a pipe
      // (GFM would take that line as a row too; answers do not write them).
      if (!blank && line.contains('|')) {
        piece << line;
        continue;
      }
      cut(false, {});
    }
    const auto numbered = at_margin ? numbered_item(line) : std::nullopt;
    if (numbered_open) {
      const bool next_item = numbered && numbered->delimiter == numbered_delimiter;
      if (!next_item && (!at_margin || (!after_blank && !interrupts_paragraph(line)))) {
        piece << (at_margin ? line : dedented(line, item_column));  // the item goes on
        after_blank = blank;
        continue;
      }
      numbered_open = false;
      if (!next_item) cut(false, {});  // the list has ended
    }
    const bool starts_numbered = numbered && (after_blank || after_heading || piece.isEmpty() || numbered->number == 1 ||
                                              (numbered_delimiter == numbered->delimiter && !piece_marker.isEmpty()));
    if (starts_numbered) {
      const bool first = piece_marker.isEmpty() || numbered_delimiter != numbered->delimiter;
      if (first) next_number = numbered->number;
      cut(!first && !after_blank, QString::number(next_number++) + numbered->delimiter);
      if (!numbered->content.isEmpty()) piece << numbered->content;
      numbered_open = true;
      numbered_delimiter = numbered->delimiter;
      item_column = numbered->content_column;
      open_list = false;
      after_blank = after_heading = false;
      continue;
    }
    // A table: a row of cells at the margin, then a delimiter row with as
    // many. It may interrupt a paragraph (GFM: "**Sizes**" right above a
    // table stays a paragraph of its own), but not continue a quote.
    const bool under_quote = at > 0 && lines[at - 1].trimmed().startsWith('>');
    if (at_margin && line.contains('|') && !under_quote && at + 1 < lines.size()) {
      if (const auto align = table_alignment(lines[at + 1]); align && align->size() == table_cells(line).size()) {
        cut(false, {});
        piece << line << lines[at + 1];
        table_first = at;
        piece_align = *align;
        open_list = false;
        after_blank = after_heading = false;
        ++at;
        continue;
      }
    }
    const bool item = at_margin && list_item_start(line);
    const QChar bullet = item ? bullet_of(line) : QChar();
    const bool ends_block = after_blank && at_margin && !(item && open_list);
    // An item with the open list's bullet continues that list, so the piece
    // cut before it still means a list of the same kind (a different bullet
    // would start a new list anyway).
    const bool next_items = item && open_list && !bullet.isNull() && bullet == list_bullet &&
                            items_in_piece >= kListItemsPerBlock;
    if ((ends_block || next_items) && !piece.isEmpty()) {
      cut(next_items && !after_blank, {});
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
    after_heading = at_margin && atx_heading(line);
  }
  push(piece, piece_continues_list, piece_marker, piece_align);
}

// A footnote definition ("[^1]: Source."), which CommonMark without the
// footnote extension, and so Qt, reads as a link definition and does not
// show: with its bracket escaped it shows as written, and so does each
// "[^1]" that refers to it.
QString footnote_shown(const QString& line) {
  int i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (!line.mid(i).startsWith(QLatin1String("[^")) || line.indexOf(QLatin1String("]:"), i + 2) <= i + 2) return line;
  return line.left(i) + '\\' + line.mid(i);
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
    QStringList shown = prose;
    for (QString& line : shown) line = footnote_shown(line);
    append_prose(out, html_made_safe(shown), prose);
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
