// How the chat view cuts an answer (split_markdown: prose and code, prose into
// its top-level blocks) and the reasoning (split_plain_text) into the pieces it
// lays out one by one. Two promises matter: a cut never changes what the text
// means, and while a text streams, the pieces before the last ones never change
// (so the view lays out again only the end).
#include <QtTest>

#include "markdown_blocks.h"
#include "markdown_html.h"
#include "text_pieces.h"

using namespace ossdesk;
using gui::MarkdownBlock;

namespace {

QStringList texts(const QVector<MarkdownBlock>& blocks) {
  QStringList out;
  for (const MarkdownBlock& b : blocks) out << b.text;
  return out;
}

// An answer as gpt-oss writes them: headings, paragraphs, a loose list with
// an indented continuation, a table, a quote, code, an indented code block.
const QString kAnswer = QStringLiteral(
    "## Tides in short\n\n"
    "The **Moon** pulls the near side of the ocean harder than the far side.\n"
    "That difference is the `tidal force`.\n\n"
    "1. High tide faces the Moon.\n\n"
    "   It also happens on the far side.\n\n"
    "2. Low tide is in between.\n"
    "- a tight list\n- of two\n\n"
    "| body | effect |\n|---|---|\n| Moon | 2/3 |\n| Sun | 1/3 |\n\n"
    "> Tides are waves with a period of half a day.\n\n"
    "```python\nprint('high')\n\nprint('low')\n```\n\n"
    "An indented block follows:\n\n"
    "    raw line one\n\n"
    "    raw line two\n\n"
    "Spring tides come when Sun and Moon line up.\n");

}  // namespace

class TestTextBlocks : public QObject {
  Q_OBJECT
 private slots:
  void code_fences_are_their_own_blocks() {
    const auto blocks = gui::split_markdown("Some text\n```cpp\nint x = 1;\n```\nafter\n~~~\nstreaming");
    QCOMPARE(blocks.size(), 4);
    QCOMPARE(blocks[0], (MarkdownBlock{MarkdownBlock::Prose, "Some text", ""}));
    QCOMPARE(blocks[1], (MarkdownBlock{MarkdownBlock::Code, "int x = 1;", "cpp"}));
    QCOMPARE(blocks[2].text, QString("after"));
    QCOMPARE(blocks[3], (MarkdownBlock{MarkdownBlock::Code, "streaming", ""}));  // unclosed: still streaming
    QCOMPARE(gui::split_markdown("inline ```not a fence``` here").size(), 1);
  }

  void prose_is_cut_into_its_top_level_blocks() {
    const auto blocks = gui::split_markdown(kAnswer);
    const QStringList expected{
        "## Tides in short",
        "The **Moon** pulls the near side of the ocean harder than the far side.\nThat difference is the `tidal force`.",
        // a loose numbered list, an item a block, the indented continuation in its item
        "High tide faces the Moon.\n\nIt also happens on the far side.",
        "Low tide is in between.",
        // a bullet list right under an item starts a list of its own
        "- a tight list\n- of two",
        "| body | effect |\n|---|---|\n| Moon | 2/3 |\n| Sun | 1/3 |",
        "> Tides are waves with a period of half a day.",
        "print('high')\n\nprint('low')",
        // an indented code block stays with the text before it, blank lines and all
        "An indented block follows:\n\n    raw line one\n\n    raw line two",
        "Spring tides come when Sun and Moon line up.",
    };
    QCOMPARE(texts(blocks), expected);
    QCOMPARE(blocks[2].marker, QString("1."));
    QCOMPARE(blocks[3].marker, QString("2."));
    QCOMPARE(blocks[3].continues_list, false);  // loose: a paragraph apart
    QCOMPARE(blocks[4].marker, QString());
    QCOMPARE(blocks[5].kind, MarkdownBlock::Table);
    QCOMPARE(blocks[7].kind, MarkdownBlock::Code);
    QCOMPARE(blocks[7].language, QString("python"));
  }

  void text_whose_meaning_reaches_past_blank_lines_stays_whole() {
    // A reference link is defined anywhere in the text, so no block may lose it.
    const QString reference = "See [the docs][d].\n\nMore text.\n\n[d]: https://example.com\n";
    QCOMPARE(texts(gui::split_markdown(reference)), QStringList{reference.trimmed()});
    // Raw HTML may hold blank lines (a comment, a <pre>).
    const QString html = "<!-- a note\n\nstill the note -->\n\nText after.";
    QCOMPARE(texts(gui::split_markdown(html)), QStringList{html});
    // Brackets that are not a definition do not stop the cutting.
    QCOMPARE(gui::split_markdown("[x] done\n\nnext").size(), 2);
  }

  void list_items_stay_with_their_list() {
    for (const QString marker : {"-", "*", "+"}) {
      const QString text = "Intro\n\n" + marker + " item\n\n" + marker + " item\n\n" + marker;
      QCOMPARE(texts(gui::split_markdown(text)), (QStringList{"Intro", text.mid(7)}));
    }
    // Not list items, so a paragraph that closes the list: a number too long,
    // no space after the marker, emphasis.
    for (const QString start : {"1234567890. x", "1.x", "**bold**", "-x"})
      QCOMPARE(texts(gui::split_markdown("- a\n\n" + start)), (QStringList{"- a", start}));
    // A list begun inside a paragraph is open all the same.
    QCOMPARE(gui::split_markdown("Steps:\n- one\n\n- two").size(), 1);
    // A list after a closed one starts a new block.
    QCOMPARE(texts(gui::split_markdown("- a\n\nText\n\n- b")), (QStringList{"- a", "Text", "- b"}));
  }

  // A long bullet list is cut between its items, 16 to a block, each block
  // after the first marked as more of the same list when the list is tight;
  // the blocks joined are the text. Nested items and a change of bullet are not cut.
  void long_bullet_lists_are_cut_between_items() {
    auto list = [](int n, const QString& marker, const QString& between) {
      QStringList items;
      for (int i = 0; i < n; ++i) items << marker + " item " + QString::number(i) + "\n  more of item " + QString::number(i);
      return items.join(between);
    };
    for (const QString between : {"\n", "\n\n"}) {
      const QString text = "Steps:\n" + list(40, "-", between);
      const auto blocks = gui::split_markdown(text);
      QCOMPARE(blocks.size(), 3);
      QCOMPARE(texts(blocks).join(between), text);
      QVERIFY(blocks[0].text.startsWith("Steps:\n- item 0\n"));
      QVERIFY(blocks[0].text.endsWith("more of item 15"));
      QVERIFY(blocks[1].text.startsWith("- item 16\n"));
      QVERIFY(blocks[2].text.startsWith("- item 32\n"));
      const bool tight = between == "\n";
      QCOMPARE(blocks[0].continues_list, false);
      QCOMPARE(blocks[1].continues_list, tight);
      QCOMPARE(blocks[2].continues_list, tight);
    }
    for (const QString marker : {"*", "+"}) QCOMPARE(gui::split_markdown(list(17, marker, "\n")).size(), 2);
    QCOMPARE(gui::split_markdown(list(16, "-", "\n")).size(), 1);
    // Nested items are not items of the list.
    QString nested = "- top\n";
    for (int i = 0; i < 40; ++i) nested += "  - nested " + QString::number(i) + "\n";
    QCOMPARE(gui::split_markdown(nested).size(), 1);
    // Another bullet starts another list: it is not cut from the first, and counts afresh.
    const QString two_lists = list(15, "-", "\n") + "\n" + list(15, "*", "\n");
    QCOMPARE(gui::split_markdown(two_lists).size(), 1);
    // A paragraph after a blank line closes the list; the next list counts afresh.
    QCOMPARE(texts(gui::split_markdown(list(10, "-", "\n") + "\n\nText\n\n" + list(10, "-", "\n"))).size(), 3);
  }

  // A numbered list at the margin comes an item a block, each with its
  // number as CommonMark counts it (from the first item's, whatever the
  // others say) and its content without the number or the indentation under it.
  void numbered_lists_come_an_item_a_block() {
    auto blocks = gui::split_markdown("Steps:\n\n3. one\n4. two\n   - sub a\n   - sub b\n7. three\n\nAfter.");
    QCOMPARE(texts(blocks), (QStringList{"Steps:", "one", "two\n- sub a\n- sub b", "three", "After."}));
    QCOMPARE(blocks[1], (MarkdownBlock{MarkdownBlock::Prose, "one", {}, false, "3."}));
    QCOMPARE(blocks[2].marker, QString("4."));
    QCOMPARE(blocks[2].continues_list, true);  // tight: flush under the item before
    QCOMPARE(blocks[3].marker, QString("5."));
    QCOMPARE(blocks[4].marker, QString());
    // Each delimiter counts on its own; the delimiter stays as written.
    for (const QString marker : {"1.", "2)", "123456789."}) {
      const QString text = "Intro\n\n" + marker + " item\n\n" + marker + " item\n\n" + marker;
      blocks = gui::split_markdown(text);
      QCOMPARE(texts(blocks), (QStringList{"Intro", "item", "item", ""}));  // the last still empty: its text has not come
      const int first = marker.chopped(1).toInt();
      for (int i = 0; i < 3; ++i) {
        QCOMPARE(blocks[1 + i].marker, QString::number(first + i) + marker.back());
        QCOMPARE(blocks[1 + i].continues_list, false);  // loose
      }
    }
    // A list numbered from 1 interrupts a paragraph; from another number it
    // is the paragraph's continuation, and Qt draws it so.
    QCOMPARE(texts(gui::split_markdown("Steps:\n1. a\n2. b")), (QStringList{"Steps:", "a", "b"}));
    QCOMPARE(texts(gui::split_markdown("Steps:\n2. a\n3. b")), (QStringList{"Steps:\n2. a\n3. b"}));
    QCOMPARE(gui::split_markdown("Steps:\n2. a")[0].marker, QString());
    // Under a heading any number starts a list.
    blocks = gui::split_markdown("## Steps\n2. a");
    QCOMPARE(texts(blocks), (QStringList{"## Steps", "a"}));
    QCOMPARE(blocks[1].marker, QString("2."));
    // A loose item keeps its paragraphs; a lazy line continues the item's
    // paragraph; a bullet, a heading, a quote or a table row under an item
    // ends the list; so does a paragraph after a blank line.
    QCOMPARE(texts(gui::split_markdown("1. a\n\n   more\n\n2. b")), (QStringList{"a\n\nmore", "b"}));
    QCOMPARE(texts(gui::split_markdown("1. a\ncontinued\n2. b")), (QStringList{"a\ncontinued", "b"}));
    QCOMPARE(texts(gui::split_markdown("1. a\n2) b")), (QStringList{"a\n2) b"}));  // numbered from 2: a continuation
    for (const QString after : {"- x", "# x", "> x", "| x |", "---"})
      QCOMPARE(texts(gui::split_markdown("1. a\n" + after)), (QStringList{"a", after}));
    QCOMPARE(texts(gui::split_markdown("1. a\n\nText")), (QStringList{"a", "Text"}));
    // Tabs and wide gaps: a tab reaches the next multiple of 4 columns; five
    // spaces or more after the number start an indented code block in the item.
    QCOMPARE(texts(gui::split_markdown("1.\tfoo\n\tbar")), (QStringList{"foo\nbar"}));
    QCOMPARE(texts(gui::split_markdown("1.      code\n\n   more")), (QStringList{"     code\n\nmore"}));
    // Numbered lists inside an item, or inside a bullet item, are Qt's to draw.
    QCOMPARE(texts(gui::split_markdown("- a\n  1. x\n  2. y")), (QStringList{"- a\n  1. x\n  2. y"}));
    QCOMPARE(texts(gui::split_markdown("1. a\n   1. x\n   2. y")), (QStringList{"a\n1. x\n2. y"}));
    // Raw HTML keeps the prose whole, numbered list and all.
    QCOMPARE(gui::split_markdown("<b>x</b>\n\n1. a\n2. b").size(), 1);
  }

  // A table comes as its cells: the header's, then each row's, as many as
  // the header has; and each column's alignment.
  void tables_come_as_their_cells() {
    auto blocks = gui::split_markdown("Sizes:\n\n| format | bits | size |\n|:---|:-:|--:|\n| BF16 | 16 | **41.8** GB |\n"
                                      "MXFP4 | 4.25 |\n| a \\| b | `c` | 1 | extra |\n\nAfter.");
    QCOMPARE(blocks.size(), 3);
    QCOMPARE(blocks[1].kind, MarkdownBlock::Table);
    QCOMPARE(blocks[1].align, QString("lcr"));
    QCOMPARE(blocks[1].rows, (QList<QStringList>{{"format", "bits", "size"},
                                                 {"BF16", "16", "**41.8** GB"},
                                                 {"MXFP4", "4.25", ""},          // a missing cell is empty
                                                 {"a | b", "`c`", "1"}}));       // an escaped pipe; the extra cell dropped
    QVERIFY(blocks[1].text.startsWith("| format | bits | size |\n|:---|"));
    QCOMPARE(blocks[2].text, QString("After."));
    // A delimiter row without alignments; a line without a pipe ends the table.
    blocks = gui::split_markdown("a | b\n--- | ---\n1 | 2\nText");
    QCOMPARE(blocks.size(), 2);
    QCOMPARE(blocks[0].align, QString("--"));
    QCOMPARE(blocks[0].rows, (QList<QStringList>{{"a", "b"}, {"1", "2"}}));
    QCOMPARE(blocks[1].text, QString("Text"));
    // Under a heading or a paragraph line a table starts without a blank line.
    QCOMPARE(gui::split_markdown("## Sizes\n| a |\n|---|")[1].kind, MarkdownBlock::Table);
    blocks = gui::split_markdown("**Sizes**\n| a |\n|---|\n| 1 |");
    QCOMPARE(texts(blocks), (QStringList{"**Sizes**", "| a |\n|---|\n| 1 |"}));
    QCOMPARE(blocks[1].kind, MarkdownBlock::Table);
    // Not tables: a delimiter row with another number of cells, a row of
    // cells without one (a table still streaming its delimiter), rows under
    // a quote, a table inside a list item.
    for (const QString text : {"| a | b |\n|---|", "| a | b |\n|-", "| a | b |", "> Quote\n| a |\n|---|", "- item\n  | a |\n  |---|"})
      for (const MarkdownBlock& b : gui::split_markdown(text)) QVERIFY2(b.kind == MarkdownBlock::Prose, qPrintable(text));
  }

  // Qt 6.4 drops what follows an HTML tag that is never closed (see
  // markdown_html.h): such a "<" is escaped, void elements are closed, and
  // what Qt draws right stays as written.
  void raw_html_that_would_lose_text_is_made_safe() {
    const QList<std::pair<QString, QString>> cases{
        {"Vector<int> v; end", "Vector&lt;int> v; end"},
        {"if a<b and c>d then", "if a&lt;b and c>d then"},
        {"a<b and c>d, <b>bold</b> end", "a&lt;b and c>d, <b>bold</b> end"},  // its </b> ends the second
        {"<T> generic", "&lt;T> generic"},
        {"the <b> key, a </i> stray", "the &lt;b> key, a &lt;/i> stray"},
        {"a<br>b <BR >c <br/>d <hr> <img src=\"x.png\">", "a<br/>b <BR />c <br/>d <hr/> <img src=\"x.png\"/>"},
        {"x<sup>2</sup> <b>bold <i>both</i></b> H<sub>2</sub>O", "x<sup>2</sup> <b>bold <i>both</i></b> H<sub>2</sub>O"},
        {"<https://example.com> <me@example.com> a <!-- note --> b", "<https://example.com> <me@example.com> a <!-- note --> b"},
        {"`f<br>g` ``h`<T>`` \\<kept> 1 < 2", "`f<br>g` ``h`<T>`` \\<kept> 1 &lt; 2"},
        {"std::map<std::string, int> <br", "std::map&lt;std::string, int> &lt;br"},
    };
    for (const auto& [in, safe] : cases) QCOMPARE(gui::inline_html_made_safe(in), safe);
    // In blocks: a table cell, a list item's line, a code block as written.
    auto blocks = gui::split_markdown("| a |\n|---|\n| x<br>y List<T> |\n\n1. Option<T> here\n\n```\n<br> Vec<T>\n```");
    QCOMPARE(blocks[0].rows[1], QStringList{"x<br/>y List&lt;T>"});
    QCOMPARE(blocks[0].text, QString("| a |\n|---|\n| x<br>y List<T> |"));  // what a copy takes: as written
    QCOMPARE(blocks[1].text, QString("Option&lt;T> here"));
    QCOMPARE(blocks[2].text, QString("<br> Vec<T>"));
    // An element closed paragraphs later stays (a <details> block); one
    // never closed does not, even as an HTML block ("<p>" or "<div>" alone
    // hid everything after it); indented code outside lists stays as written.
    const QStringList lines{"<details>", "<summary>More <T></summary>", "", "text", "</details>", "", "<div>", "", "<p>para", "",
                            "    code <T>", "", "- item", "", "    item <T>"};
    QCOMPARE(gui::html_made_safe(lines),
             (QStringList{"<details>", "<summary>More &lt;T></summary>", "", "text", "</details>", "", "&lt;div>", "", "&lt;p>para", "",
                          "    code <T>", "", "- item", "", "    item &lt;T>"}));
    // Inside a paragraph an element must close on its line: the blocks are
    // laid out apart, and "the <b> key" alone would hide "key".
    QCOMPARE(gui::html_made_safe({"the <b> key", "", "later </b> end"}), (QStringList{"the &lt;b> key", "", "later &lt;/b> end"}));
    QCOMPARE(texts(gui::split_markdown("1. a <i>x\n2. y</i> b")), (QStringList{"a &lt;i>x", "y&lt;/i> b"}));
    QCOMPARE(gui::split_markdown("| a | b |\n|---|---|\n| <b>x | y</b> |")[0].rows[1], (QStringList{"&lt;b>x", "y&lt;/b>"}));
    const QStringList to_their_end{"<!-- a <T>", "", "still <T> -->", "x <T>", "<pre>", "a <T>", "", "</pre> <T>", "x <T>"};
    QCOMPARE(gui::html_made_safe(to_their_end),
             (QStringList{"<!-- a <T>", "", "still <T> -->", "x &lt;T>", "<pre>", "a <T>", "", "</pre> <T>", "x &lt;T>"}));
  }

  // A footnote definition shows as written (Qt would take it for a link
  // definition and hide it), and the prose around it is cut as usual.
  void footnote_definitions_show() {
    QCOMPARE(texts(gui::split_markdown("Fact[^1].\n\n[^1]: Source, 2024.\n\n  [^note]: Indented.\n\nEnd.")),
             (QStringList{"Fact[^1].", "\\[^1]: Source, 2024.\n\n  \\[^note]: Indented.", "End."}));  // an indented line stays with what it follows
    // Not definitions: no colon after the label, an empty label, a plain reference definition.
    QCOMPARE(texts(gui::split_markdown("[^1] text")), QStringList{"[^1] text"});
    QCOMPARE(texts(gui::split_markdown("[^]: x")), QStringList{"[^]: x"});
    QCOMPARE(texts(gui::split_markdown("[d]: https://example.com")), QStringList{"[d]: https://example.com"});
  }

  void streaming_a_long_list_leaves_finished_blocks_alone() {
    QString text = "Options:\n\n";
    for (int i = 0; i < 60; ++i) text += "- option " + QString::number(i) + " with **this** and `that`\n";
    const auto whole = gui::split_markdown(text);
    QCOMPARE(whole.size(), 5);  // the intro, then 16 + 16 + 16 + 12 items
    for (qsizetype n = 0; n <= text.size(); ++n) {
      const auto now = gui::split_markdown(text.left(n));
      for (qsizetype i = 0; i + 2 < now.size(); ++i)
        QVERIFY2(now[i] == whole[i], qPrintable(QString("prefix %1, block %2: '%3'").arg(n).arg(i).arg(now[i].text)));
    }
  }

  // The same for a numbered list whose items hold nested bullets and a
  // loose paragraph, as gpt-oss writes long instructions.
  void streaming_a_numbered_list_leaves_finished_items_alone() {
    QString text = "Steps:\n\n";
    for (int i = 1; i <= 12; ++i) {
      text += QString::number(i) + ". **Step " + QString::number(i) + "** does this\n   - detail one\n   - detail two\n";
      if (i % 4 == 0) text += "\n   A paragraph of the step.\n\n";
    }
    text += "\nDone.";
    const auto whole = gui::split_markdown(text);
    QCOMPARE(whole.size(), 14);  // the intro, 12 items, the closing paragraph
    for (int i = 1; i <= 12; ++i) QCOMPARE(whole[i].marker, QString::number(i) + ".");
    QCOMPARE(whole[5].continues_list, false);  // after item 4's paragraph and blank line
    QCOMPARE(whole[6].continues_list, true);
    for (qsizetype n = 0; n <= text.size(); ++n) {
      const auto now = gui::split_markdown(text.left(n));
      for (qsizetype i = 0; i + 2 < now.size(); ++i)
        QVERIFY2(now[i] == whole[i], qPrintable(QString("prefix %1, block %2: '%3'").arg(n).arg(i).arg(now[i].text)));
    }
  }

  // While the answer streams, every block but the last two is already what it
  // will be (the last may grow; the one before may still take a list item
  // that turns a cut into a continuation, "1" becoming "1. item").
  void streaming_leaves_finished_blocks_alone() {
    const QStringList whole = texts(gui::split_markdown(kAnswer));
    for (qsizetype n = 0; n <= kAnswer.size(); ++n) {
      const QStringList now = texts(gui::split_markdown(kAnswer.left(n)));
      QVERIFY2(now.size() <= whole.size(), qPrintable(QString::number(n)));
      for (qsizetype i = 0; i + 2 < now.size(); ++i)
        QVERIFY2(now[i] == whole[i], qPrintable(QString("prefix %1, block %2: '%3'").arg(n).arg(i).arg(now[i])));
    }
  }

  void plain_text_short_is_one_piece() {
    QVERIFY(gui::split_plain_text("").isEmpty());
    const QString text = QString("word ").repeated(300) + "\n" + QString("word ").repeated(50);
    QCOMPARE(gui::split_plain_text(text), QStringList{text});
  }

  void plain_text_is_cut_at_line_breaks() {
    QString text;
    for (int i = 0; i < 400; ++i) text += QString("Line %1 of the reasoning, about this long.\n").arg(i);
    const QStringList pieces = gui::split_plain_text(text);
    QVERIFY(pieces.size() >= 7);
    QCOMPARE(pieces.join('\n'), text);  // every cut was a line break
    for (qsizetype i = 0; i + 1 < pieces.size(); ++i) {
      QVERIFY(pieces[i].size() >= gui::kPieceChars);
      QVERIFY(pieces[i].size() < gui::kPieceChars + 60);  // the first break past the mark
    }
    // A blank line at a cut stays: the next piece starts with it.
    const QString two = QString(2100, 'a') + "\n\nb";
    QCOMPARE(gui::split_plain_text(two), (QStringList{QString(2100, 'a'), "\nb"}));
  }

  void a_long_paragraph_is_cut_at_a_space() {
    const QString paragraph = QString("word ").repeated(5000);  // 25,000 characters, no line break
    const QStringList pieces = gui::split_plain_text(paragraph);
    QCOMPARE(pieces.size(), 4);
    QCOMPARE(pieces.join(' '), paragraph);
    for (qsizetype i = 0; i + 1 < pieces.size(); ++i) QCOMPARE(pieces[i].size(), gui::kLongestPiece + 4);
    // Text without a space or a line break (a long base64 string) stays whole.
    QCOMPARE(gui::split_plain_text(QString(30000, 'x')).size(), 1);
  }

  void streaming_plain_text_leaves_finished_pieces_alone() {
    // Lines of a few sentences, one paragraph of 20,000 characters without a
    // line break, one run of 10,000 without a space either.
    QString text;
    for (int i = 0; i < 800; ++i) {
      if (i == 300) text += QString("long ").repeated(4000) + "\n";
      if (i == 600) text += QString(10000, 'x') + " ";
      text += QString("Sentence %1 goes on about the problem.%2").arg(i).arg(i % 8 == 7 ? "\n" : " ");
    }
    const QStringList whole = gui::split_plain_text(text);
    QVERIFY2(whole.size() >= 10, qPrintable(QString::number(whole.size())));
    for (qsizetype n = 0; n <= text.size(); n += 7) {
      const QStringList now = gui::split_plain_text(text.left(n));
      for (qsizetype i = 0; i + 1 < now.size(); ++i)
        QVERIFY2(now[i] == whole[i], qPrintable(QString("prefix %1, piece %2").arg(n).arg(i)));
    }
  }
};

QTEST_GUILESS_MAIN(TestTextBlocks)
#include "test_text_blocks.moc"
