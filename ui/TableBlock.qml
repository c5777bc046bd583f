// A Markdown table of an answer, drawn here from its cells (split_markdown,
// app/gui/markdown_blocks.h) rather than by Qt's Markdown text, which lays a
// table out whole and slowly: one of 4,000 characters held the UI thread
// 460 ms a frame while it streamed, one of 20,000 characters 7 s. The rows are
// a ListModel that ListSync writes, so a streamed token lays out only the row
// it grows (every row only when a column's width changes). A column is as
// wide as its widest cell needs, up to 40 characters' worth; when the table
// would be wider than the answer, the wide columns give way (layOut). The cells
// are not selected one by one: a selection across the answer (SelectionSpan)
// takes the table whole, as its Markdown, through `textItem`.
pragma ComponentBehavior: Bound

import QtQuick
import Ossdesk
import "ListSync.js" as ListSync

Item {
    id: table
    property string cells   // U+001F ends a cell, U+001E a row; the header's first
    property string align   // per column: l, c, r, or - (none given)
    property string source  // the table's Markdown, for a copy
    readonly property Item textItem: copyText
    readonly property int columns: align.length
    readonly property real padding: 6
    implicitHeight: rows.implicitHeight

    FontMetrics { id: metrics; font.pixelSize: Theme.baseSize }
    FontMetrics { id: headerMetrics; font.pixelSize: Theme.baseSize; font.bold: true }

    // Each column's width in pixels (set by sync and layOut).
    property var widths: []
    readonly property real tableWidth: widths.reduce((a, b) => a + b, 0)
    // Per row, what its cells need unwrapped: [line, [pixels per column]];
    // a streamed token changes the last row only, so only it is measured
    // again. (An object around the array: a `var` property hands out an
    // array as a copy, so writes to its elements would be lost.)
    readonly property var measured: ({ rows: [] })

    function needsOf(line, header) {
        const cellsOfRow = line.split("\u001f")
        const needs = []
        for (let c = 0; c < columns; ++c) {
            // The widest of its lines ("<br/>" breaks one); marks and tags take no room.
            const lines = (cellsOfRow[c] || "").split(/<br\s*\/?>/i).map(l => l.replace(/<[^>]*>|[*_`]/g, ""))
            const widest = Math.max(...lines.map(l => (header ? headerMetrics : metrics).advanceWidth(l)))
            needs.push(Math.ceil(widest) + 2 * padding + 2)
        }
        return needs
    }
    // The widths: each column what its widest cell needs, at most 40
    // characters' worth; when they add up to more than the answer's width,
    // the narrow columns keep theirs and the wide ones share the rest.
    function layOut() {
        const longest = 40 * metrics.averageCharacterWidth + 2 * padding
        const needs = new Array(columns).fill(3 * metrics.averageCharacterWidth + 2 * padding)
        for (const row of measured.rows)
            for (let c = 0; c < columns; ++c) needs[c] = Math.max(needs[c], Math.min(longest, row[1][c]))
        const order = needs.map((n, c) => c).sort((a, b) => needs[a] - needs[b])
        const result = new Array(columns).fill(0)
        let room = Math.max(width, columns * 2 * padding)
        order.forEach((c, k) => {
            result[c] = Math.floor(Math.min(needs[c], room / (columns - k)))
            room -= result[c]
        })
        if (result.some((w, c) => w !== widths[c]) || result.length !== widths.length) widths = result
    }
    function sync() {
        const lines = cells.split("\u001e")
        const rows = measured.rows
        rows.length = Math.min(rows.length, lines.length)
        lines.forEach((line, i) => {
            if (i >= rows.length || rows[i][0] !== line) rows[i] = [line, needsOf(line, i === 0)]
        })
        layOut()
        ListSync.update(rowModel, lines.map(line => ({ line: line })), ["line"])
    }
    function measureAgain() {
        measured.rows.length = 0
        sync()
    }
    onCellsChanged: sync()
    onWidthChanged: layOut()
    onColumnsChanged: measureAgain()  // the cells may come before the alignments
    readonly property int fontSize: Theme.baseSize
    onFontSizeChanged: measureAgain()
    Component.onCompleted: sync()
    ListModel { id: rowModel }

    Column {
        id: rows
        Repeater {
            model: rowModel
            delegate: Rectangle {
                id: row
                required property string line
                required property int index
                readonly property var rowCells: line.split("\u001f")
                width: table.tableWidth
                height: cellRow.implicitHeight
                color: index === 0 ? Theme.surface : "transparent"
                Row {
                    id: cellRow
                    Repeater {
                        model: table.columns
                        delegate: Item {
                            id: cell
                            required property int index
                            width: table.widths[index] || 0
                            implicitHeight: cellText.implicitHeight + 2 * table.padding
                            Text {
                                id: cellText
                                objectName: "tableCell"
                                x: table.padding
                                y: table.padding
                                width: parent.width - 2 * table.padding
                                text: row.rowCells[cell.index] || ""
                                textFormat: Text.MarkdownText
                                wrapMode: Text.Wrap
                                horizontalAlignment: {
                                    const a = table.align[cell.index]
                                    return a === "c" ? Text.AlignHCenter : a === "r" ? Text.AlignRight : Text.AlignLeft
                                }
                                font.pixelSize: Theme.baseSize
                                font.bold: row.index === 0
                                color: Theme.text
                                onLinkActivated: link => Qt.openUrlExternally(link)
                            }
                            Rectangle {  // the line between this column and the next
                                visible: cell.index < table.columns - 1
                                x: parent.width - 1
                                width: 1
                                height: cellRow.height
                                color: Theme.border
                            }
                        }
                    }
                }
                Rectangle {  // the line under the row
                    y: parent.height - 1
                    width: parent.width
                    height: 1
                    color: Theme.border
                }
            }
        }
    }
    Rectangle {  // the frame
        width: table.tableWidth
        height: rows.height
        color: "transparent"
        border.color: Theme.border
    }
    // The table in a selection across the answer (SelectionSpan), which
    // treats it as a text: it is selected whole or not at all, and copies as
    // its Markdown. A selection that ends in the table's lower half takes it.
    Rectangle {
        id: copyText
        property bool whole: false
        readonly property string selectedText: whole ? table.source : ""
        readonly property int length: table.source.length
        function selectAll() { whole = true }
        function deselect() { whole = false }
        function select(from, to) { whole = to > from }
        function positionAt(x, y) { return y > height / 2 ? length : 0 }
        width: table.tableWidth
        height: rows.height
        color: Theme.accent
        opacity: 0.2
        visible: whole
    }
}
