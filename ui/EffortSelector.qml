// Low / Medium / High reasoning effort for the conversation (written into the
// system message). The chosen one is always visible.
pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

RowLayout {
    id: root
    property string effort: "medium"
    signal chosen(string effort)
    spacing: 0
    Label { text: qsTr("Reasoning"); color: Theme.subtle; font.pixelSize: Theme.small; rightPadding: 4 }
    Repeater {
        model: [{ key: "low", label: qsTr("Low") }, { key: "medium", label: qsTr("Medium") }, { key: "high", label: qsTr("High") }]
        delegate: Button {
            id: option
            required property var modelData
            objectName: "effort_" + modelData.key
            text: modelData.label
            checkable: true
            checked: root.effort === option.modelData.key
            flat: !checked
            highlighted: checked
            font.pixelSize: Theme.small
            padding: 6
            onClicked: root.chosen(option.modelData.key)
        }
    }
}
