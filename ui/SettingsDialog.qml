// Settings, saved as they change: where models live, the default backend and
// device, context length, sampling, this chat's system prompt, theme and font
// size. Backend, device and context apply at the next model load.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Ossdesk

Dialog {
    id: root
    required property ChatController chat
    required property ModelController models
    required property AppSettings settings
    objectName: "settingsDialog"
    title: qsTr("Settings")
    modal: true
    standardButtons: Dialog.Close
    width: 560
    // Popups do not take the window's palette in Qt 6.4: give the dialog the theme's.
    palette.window: Theme.raised
    palette.windowText: Theme.text
    palette.base: Theme.window
    palette.text: Theme.text
    palette.button: Theme.surface
    palette.buttonText: Theme.text
    palette.placeholderText: Theme.subtle
    palette.mid: Theme.border
    palette.dark: Theme.accent
    palette.light: Theme.raised
    palette.midlight: Theme.surface
    palette.highlight: Theme.accent

    GridLayout {
        anchors.fill: parent
        columns: 2
        columnSpacing: 12
        rowSpacing: 8

        Label { text: qsTr("Models folder") }
        TextField { Layout.fillWidth: true; text: root.settings.modelsFolder; onEditingFinished: root.settings.modelsFolder = text }

        Label { text: qsTr("Backend") }
        ComboBox {
            id: backendBox
            Layout.fillWidth: true
            model: root.models.backends
            currentIndex: Math.max(0, model.indexOf(root.settings.backend))
            onActivated: root.settings.backend = currentText
        }

        Label { text: qsTr("Device") }
        ComboBox {
            objectName: "deviceBox"
            Layout.fillWidth: true
            readonly property var devices: root.models.devices(backendBox.currentText)
            model: [qsTr("Best available"), ...devices.map(d => d.name + " (" + d.detail + ")")]
            enabled: devices.length > 0
            currentIndex: {
                for (let i = 0; i < devices.length; ++i) if (String(devices[i].index) === root.settings.device) return i + 1
                return 0
            }
            onActivated: root.settings.device = currentIndex === 0 ? "" : String(devices[currentIndex - 1].index)
        }

        Label { text: qsTr("Context length") }
        SpinBox { from: 256; to: 131072; stepSize: 1024; editable: true; value: root.settings.contextLength; onValueModified: root.settings.contextLength = value }

        Label { text: qsTr("Temperature") }
        RowLayout {
            Slider { id: tempSlider; Layout.fillWidth: true; from: 0; to: 2; stepSize: 0.05; value: root.settings.temperature; onMoved: root.settings.temperature = value }
            Label { text: tempSlider.value.toFixed(2) }
        }

        Label { text: qsTr("Top-p") }
        RowLayout {
            Slider { id: topPSlider; Layout.fillWidth: true; from: 0.05; to: 1; stepSize: 0.05; value: root.settings.topP; onMoved: root.settings.topP = value }
            Label { text: topPSlider.value.toFixed(2) }
        }

        Label { text: qsTr("Longest answer") }
        SpinBox { from: 16; to: 131072; stepSize: 512; editable: true; value: root.settings.maxTokens; onValueModified: root.settings.maxTokens = value }

        Label { text: qsTr("System prompt\n(this chat)") }
        TextArea {
            Layout.fillWidth: true
            Layout.preferredHeight: 70
            wrapMode: TextEdit.Wrap
            placeholderText: qsTr("Instructions for the model in this conversation")
            text: root.chat.systemPrompt
            onEditingFinished: root.chat.systemPrompt = text
        }

        Label { text: qsTr("Theme") }
        ComboBox {
            Layout.fillWidth: true
            readonly property var keys: ["system", "light", "dark"]
            model: [qsTr("System"), qsTr("Light"), qsTr("Dark")]
            currentIndex: Math.max(0, keys.indexOf(root.settings.theme))
            onActivated: root.settings.theme = keys[currentIndex]
        }

        Label { text: qsTr("Font size") }
        SpinBox { from: 9; to: 28; value: root.settings.fontSize; onValueModified: root.settings.fontSize = value }
    }
}
