"""The text of 15 screenshots of the GIMP manual's dialogs chapter, typed in by hand from
looking at them: the truth for OCR error rates, and what the screenshot questions' answers
are checked against."""

# the text in a screenshot as seen (typed in by hand; layout flattened to lines, read left to
# right, top to bottom; icons without words left out)
SCREENS = {
    "images/dialogs/dashboard-dialog.png": """Cache
Occupied: 1.7 MiB (0%)
Limit: 2.9 GiB
Swap
Occupied: 0 bytes (0%)
Size: 0 bytes (0%)
Limit: 14.8 GiB
CPU
Usage: 0%
Memory
Used: 1.6 GiB (10%)
Available: 5.3 GiB (33%)
Size: 15.9 GiB""",
    "images/dialogs/histogram-basic-dialog.png": """Histogram
Background
Channel: Value
1 255
Mean: 186.8 Pixels: 1483200
Std Dev: 44.3 Count: 1483200
Median: 182.0 Percentile: 100.0""",
    "images/dialogs/error-console.png": """Error Console
help Message
The GIMP help files are not installed.
Could not open '/usr/share/gimp/2.0/help/en/gimp-help.xml' for reading: No such file or directory
Please check your installation.""",
    "images/dialogs/symmetry-mandala.png": """Symmetry Mandala
Center abscissa 320,00
Center ordinate 240,00
Number of points 6
Disable brush transform""",
    "images/dialogs/symmetry-tiling.png": """Symmetry Tiling
Interval X 320,00
Interval Y 240,00
Shift 0,00
Max strokes X 0
Max strokes Y 0""",
    "images/dialogs/sample-points-dialog.png": """Sample Points
Pixel Pixel
Red: 91 Red: n/a
Green: 251 Green: n/a
Blue: 166 Blue: n/a
Alpha: 255
Pixel Pixel
Red: n/a Red: n/a
Green: n/a Green: n/a
Blue: n/a Blue: n/a""",
    "images/dialogs/templates-dialog.png": """Image Templates
Template header test
640x480
800x600
1024x768
1600x1200
A3 (300ppi)
A4 (300ppi)""",
    "images/dialogs/brushes-editor-dialog.png": """Brush Editor
Untitled #1
Shape:
Radius 5,0
Spikes 2
Hardness 0,50
Aspect ratio 1,0
Angle 0,0
Spacing 20,0""",
    "images/dialogs/undo-history-dialog.png": """Undo History
[ Base Image ]
Item visibility
Item visibility
Rect Select
Bucket Fill
Select None
Eraser""",
    "images/menus/select/selection-to-path-adv.png": """Selection to Path Advanced Settings
Align Threshold: 0,50
Corner Always Threshold: 60,00
Corner Surround: 4
Corner Threshold: 100,00
Error Threshold: 0,40
Filter Alternative Surround: 1
Filter Epsilon: 10,00
Filter Iteration Count: 4
Filter Percent: 0,33
Filter Secondary Surround: 3
Filter Surround: 2
Keep Knees
Line Reversion Threshold: 0,010
Line Threshold: 0,50
Reparametrize Improvement: 0,01
Reparametrize Threshold: 1,00
Subdivide Search: 0,10
Subdivide Surround: 4
Subdivide Threshold: 0,03
Tangent Surround: 3
Reset Cancel OK""",
    "images/dialogs/dialogs-templates-edit-advanced.png": """Edit Template
Edit Template
1024x768 #1
Name: 1024x768 #1
Icon:
Image Size
Width: 1024
Height: 768 px
1024 × 768 pixels
72 ppi, RGB color
Advanced Options
X resolution: 72,000
Y resolution: 72,000 pixels/in
Color space: RGB color
Precision: 8-bit integer
Gamma: Perceptual gamma (sRGB)
Color manage this image
Color profile: Built-in RGB (GIMP built-in sRGB)
Fill with: Background color
Comment:
Help OK Cancel""",
    "images/dialogs/layer-mask-add.png": """Add a Mask to the Layer
Background-2 (cosmos-1.png)
Initialize Layer Mask to:
White (full opacity)
Black (full transparency)
Layer's alpha channel
Transfer layer's alpha channel
Selection
Grayscale copy of layer
Channel
Invert mask
Help Add Cancel""",
    "images/dialogs/palettes-dialog.png": """Palettes
filter
Bears (256)
Bgold (256)
Blues (256)
Borders (256)
Browns And Yellows (22)
Caramel (256)
Cascade (256)
China (256)
enter tags""",
    "images/dialogs/patterns-dialog-list.png": """Untitled-1 Auto
Patterns
filter
Clipboard (16 × 16)
3D Green (45 × 45)
Amethyst (64 × 64)
Big Blue (45 × 45)
enter tags""",
    "images/menus/help/tip-of-the-day.png": """GIMP Tip of the Day
You can drag a layer from the Layers dialog and drop it onto the toolbox. This will create a new image containing only that layer.
Learn more
Previous Tip Next Tip""",  # noqa: E501
}
