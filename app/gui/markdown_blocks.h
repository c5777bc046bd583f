// Splits an answer's Markdown into the pieces the chat view draws
// differently: prose (drawn by Qt's Markdown text: headings, lists, tables,
// emphasis) and fenced code blocks (drawn monospace with a copy button). An
// unclosed fence, as while a code block is still streaming, runs to the end.
// Prose is further cut into its top-level blocks where that changes nothing
// they mean (markdown_blocks.cpp), because Qt lays out a Markdown text whole:
// one text for a 40,000-character answer took ~130 ms a frame while it
// streamed; as pieces, only the growing last one is laid out again. A long
// bullet list is cut between its items too (a list is far slower to lay out
// than paragraphs: one of 10,000 characters held the UI thread 300 ms a frame).
// A numbered list comes as one block per item, its number apart (`marker`),
// for the view to draw beside the item: Qt 6.4 numbers every list it lays
// out from 1, so a cut list drawn by Qt would start again at 1. A table comes
// as its cells, for the view to draw: Qt lays a Markdown table out far more
// slowly than text (a table of 4,000 characters held the UI thread 460 ms a
// frame while it streamed, one of 20,000 characters 7 s).
#pragma once

#include <QString>
#include <QVector>

namespace ossdesk::gui {

struct MarkdownBlock {
  enum Kind { Prose, Code, Table };
  Kind kind = Prose;
  QString text;      // code: without the fences; table: its lines as written
  QString language;  // code: the info string's first word ("cpp"), may be empty
  // Prose: more items of the tight bullet list the block before ends with:
  // drawn flush under it, copied after a line break. (Items of a loose list
  // are a paragraph apart anyway, as blocks are.)
  bool continues_list = false;
  // Prose: an item of a numbered list at the left margin, and its number as
  // the list counts it ("17.", "3)"); `text` is the item's content, without
  // the number and with its indentation under the number taken off.
  QString marker = {};
  // Table: the header's cells, then each row's (as many as the header has),
  // each cell's Markdown without the pipes around it; and per column its
  // alignment: 'l', 'c', 'r', or '-' where the delimiter row gives none.
  QList<QStringList> rows = {};
  QString align = {};
  bool operator==(const MarkdownBlock&) const = default;
};

QVector<MarkdownBlock> split_markdown(const QString& markdown);

}  // namespace ossdesk::gui
