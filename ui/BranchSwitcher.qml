// ‹ 2/3 ›: moves between the alternatives of a message (regenerated answers,
// edited questions).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

RowLayout {
    id: root
    property int index: 0
    property int count: 1
    signal move(int delta)
    spacing: 0
    ToolButton { text: "‹"; enabled: root.index > 0; onClicked: root.move(-1) }
    Label { objectName: "branchPosition"; text: (root.index + 1) + "/" + root.count; color: Theme.subtle; font.pixelSize: Theme.small }
    ToolButton { text: "›"; enabled: root.index + 1 < root.count; onClicked: root.move(1) }
}
