package io.carousel.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The report as one PNG (Java2D, headless: no browser): a title, then per key its figures and the
 * same chart as the page. At most {@link #MAX_KEYS} keys, so the image stays a sane size; the page
 * has them all.
 */
final class Png {

    static final int MAX_KEYS = 30;
    private static final double HEADER = 62;
    private static final double KEY_HEADER = 44;

    private Png() {}

    static void write(Report report, Path file) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // an image in memory: no display needed
        }
        List<Report.Key> keys = report.keys();
        int shown = Math.min(keys.size(), MAX_KEYS);
        double height = HEADER + shown * (KEY_HEADER + Charts.HEIGHT + 12) + (keys.size() > shown ? 24 : 0);
        BufferedImage img = new BufferedImage((int) Charts.WIDTH, (int) Math.ceil(height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            Color text = Painter.color(Charts.TEXT);
            Evaluation.Counts all = Evaluation.Counts.ZERO;
            for (Report.Key k : keys) {
                all = all.plus(k.counts());
            }
            String summary = String.format(Locale.ROOT, "%,d rows of %d %s, %,d flagged (threshold %s)", all.rows(),
                    keys.size(), keys.size() == 1 ? "key" : "keys", all.flagged(), Report.score(report.threshold()))
                    + (report.labelled() ? ": precision " + Report.share(all.truePositives(), all.flagged())
                    + ", recall " + Report.share(all.detectedRuns(), all.runs()) + " of labelled runs" : "");
            Painter.text(g, "Backtest report: " + report.title(), 12, 22, 17, "start", Color.BLACK, true);
            Painter.text(g, summary, 12, 38, 12, "start", text, false);
            legend(g, report.labelled(), 12, 48);
            double y = HEADER;
            for (int k = 0; k < shown; k++) {
                Report.Key key = keys.get(k);
                Evaluation.Counts c = key.counts();
                g.setColor(Painter.color("#dde1e6"));
                g.drawLine(0, (int) y + 6, img.getWidth(), (int) y + 6);
                Painter.text(g, key.series().key(), 12, y + 26, 14, "start", Color.BLACK, true);
                String figures = String.format(Locale.ROOT, "%,d rows, %,d flagged", c.rows(), c.flagged())
                        + (report.labelled() ? String.format(Locale.ROOT, ", %d true positives, %d of %d labelled runs found",
                        c.truePositives(), c.detectedRuns(), c.runs()) + "; precision "
                        + Report.share(c.truePositives(), c.flagged()) + ", recall " + Report.share(c.detectedRuns(), c.runs())
                        : "");
                Painter.text(g, figures, 12, y + 42, 12, "start", text, false);
                Graphics2D kg = (Graphics2D) g.create();
                kg.translate(0, y + KEY_HEADER);
                Painter.paint(Charts.key(key.series(), key.runs(), report.threshold(), report.labelled()), kg);
                kg.dispose();
                y += KEY_HEADER + Charts.HEIGHT + 12;
            }
            if (keys.size() > shown) {
                Painter.text(g, "and " + (keys.size() - shown) + " more keys: see the HTML report", 12, y + 16, 12, "start",
                        text, false);
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer in this Java runtime");
        }
    }

    /** The page's legend in one row at (x, y), each swatch 18 x 12. */
    private static void legend(Graphics2D g, boolean labelled, double x, double y) {
        List<String> names = new java.util.ArrayList<>();
        List<List<Scene.Shape>> swatches = new java.util.ArrayList<>();
        names.add("value");
        swatches.add(List.of(path(Charts.VALUE, 1, 9, 6, 4, 11, 8, 17, 2)));
        names.add("forecast");
        swatches.add(List.of(path(Charts.FORECAST, 1, 8, 6, 5, 11, 7, 17, 3)));
        names.add("interval");
        swatches.add(List.of(new Scene.Rect(1, 2, 16, 8, Scene.Style.fill(Charts.BAND, 0.3), Scene.Meta.NONE)));
        names.add("anomaly score");
        swatches.add(List.of(path(Charts.SCORE, 1, 9, 6, 7, 11, 8, 17, 3)));
        names.add(labelled ? "flagged, labelled" : "flagged");
        swatches.add(List.of(new Scene.Circle(9, 6, 4.5, new Scene.Style(Charts.FLAG, 1, "#ffffff", 1, null), Scene.Meta.NONE)));
        if (labelled) {
            names.add("flagged, not labelled");
            swatches.add(List.of(new Scene.Circle(9, 6, 4, new Scene.Style("#ffffff", 1, Charts.FLAG, 2, null), Scene.Meta.NONE)));
            names.add("labelled anomaly");
            swatches.add(List.of(new Scene.Rect(1, 0, 16, 12, Scene.Style.fill(Charts.LABEL, 0.45), Scene.Meta.NONE)));
        }
        names.add("new model version");
        swatches.add(List.of(path("#555555", 9, 0, 9, 7)));
        names.add("warm-up");
        swatches.add(List.of(new Scene.Rect(1, 0, 16, 12, Scene.Style.fill("#000000", 0.08), Scene.Meta.NONE)));
        Graphics2D lg = (Graphics2D) g.create();
        lg.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 1).deriveFont(12f));
        double cx = x;
        for (int i = 0; i < names.size(); i++) {
            Scene one = new Scene(18, 12);
            one.shapes.addAll(swatches.get(i));
            Graphics2D sg = (Graphics2D) lg.create();
            sg.translate(cx, y);
            Painter.paint(one, sg);
            sg.dispose();
            Painter.text(lg, names.get(i), cx + 22, y + 10, 12, "start", Painter.color(Charts.TEXT), false);
            cx += 22 + lg.getFontMetrics().stringWidth(names.get(i)) + 16;
        }
        lg.dispose();
    }

    private static Scene.Path path(String color, double... xy) {
        return new Scene.Path(List.of(xy), false, Scene.Style.stroke(color, 1.5), Scene.Meta.NONE);
    }
}
