// An answer as Markdown: prose through Qt's Markdown text (headings, lists,
// tables, emphasis, links), fenced code as CodeBlock with a copy button.
// `blocks` (split_markdown, app/gui/markdown_blocks.h) is a new list on every
// streamed frame; ListSync writes only the blocks that changed, so only the
// growing last one is laid out again. A long bullet list comes as several
// blocks, each after the first drawn flush under the one before. A numbered
// list comes as a block per item, its number (`marker`) drawn here in the
// margin Qt indents a list by: Qt 6.4 would number each block from 1. A
// table is drawn from its cells (TableBlock). A selection runs across the
// blocks (SelectionSpan).
import QtQuick
import QtQuick.Layouts
import Ossdesk
import "ListSync.js" as ListSync

Item {
    id: root
    required property ChatController chat
    property var blocks: []
    implicitHeight: column.implicitHeight
    // How far a list's items stand in from the margin: QTextDocument's indent
    // step, which Qt's Markdown lists (nested ones in an item too) use.
    readonly property real listIndent: 40

    function sync() { ListSync.update(shown, root.blocks || [], ["kind", "text", "language", "continues", "marker", "cells", "align"]) }
    onBlocksChanged: sync()
    Component.onCompleted: sync()

    // The blocks' text items in reading order.
    function texts() {
        const out = []
        for (let i = 0; i < blockRepeater.count; ++i) {
            const block = blockRepeater.itemAt(i)
            if (block && block.item) out.push(block.item.textItem)
        }
        return out
    }

    ListModel { id: shown }
    ColumnLayout {
        id: column
        width: parent.width
        spacing: 8
        Repeater {
            id: blockRepeater
            model: shown
            delegate: Loader {
                id: block
                required property string kind
                required property string text
                required property string language
                required property bool continues  // more items of the list above: flush under it
                required property string marker    // an item of a numbered list: its number
                required property string cells     // a table: its cells (TableBlock)
                required property string align     // a table: its columns' alignments
                Layout.fillWidth: true
                Layout.topMargin: continues ? -column.spacing : 0
                sourceComponent: kind === "code" ? codeComponent : kind === "table" ? tableComponent : proseComponent
                Component {
                    id: proseComponent
                    Item {
                        readonly property Item textItem: prose
                        implicitHeight: prose.implicitHeight
                        Text {
                            objectName: "listMarker"
                            visible: block.marker !== ""
                            width: root.listIndent - font.pixelSize / 2
                            horizontalAlignment: Text.AlignRight
                            text: block.marker
                            color: Theme.text
                            font.pixelSize: Theme.baseSize
                        }
                        TextEdit {
                            id: prose
                            objectName: "answerProse"
                            x: block.marker !== "" ? root.listIndent : 0
                            width: parent.width - x
                            text: block.text
                            textFormat: TextEdit.MarkdownText
                            readOnly: true
                            selectByMouse: true
                            wrapMode: Text.Wrap
                            color: Theme.text
                            font.pixelSize: Theme.baseSize
                            onLinkActivated: link => Qt.openUrlExternally(link)
                            Keys.onPressed: event => span.copyKey(event)
                        }
                    }
                }
                Component {
                    id: tableComponent
                    TableBlock {
                        cells: block.cells
                        align: block.align
                        source: block.text
                    }
                }
                Component {
                    id: codeComponent
                    CodeBlock {
                        code: block.text
                        language: block.language
                        chat: root.chat
                        onKeyPressed: event => span.copyKey(event)
                    }
                }
            }
        }
    }
    SelectionSpan {
        id: span
        anchors.fill: parent
        texts: root.texts
        copier: root.chat
        // Blocks of one list copy as one list: a line break, not a blank line.
        separatorAfter: i => i + 1 < shown.count && shown.get(i + 1).continues ? "\n" : "\n\n"
    }
}
