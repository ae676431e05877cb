package io.carousel.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChartsTest {

    /** A 22,000-row series of zeros with one spike and one dip, each a single row. */
    private static KeySeries spiky(int n, int spike, int dip, boolean flagSpike) {
        KeySeries s = new KeySeries("k");
        for (int i = 0; i < n; i++) {
            double v = i == spike ? 10 : i == dip ? -7 : Math.sin(i / 50.0) * 0.1;
            s.add("t" + i, v, i == 0 ? Double.NaN : 0, i == 0 ? Double.NaN : -1, i == 0 ? Double.NaN : 1, 0.5,
                    flagSpike && i == spike, i == dip, i > 300, 0);
        }
        return s;
    }

    @Test
    void shouldKeepOneRowSpikesThroughTheMinMaxBuckets() {
        int n = 22_000;
        KeySeries s = spiky(n, 12_345, 17_001, false);
        Charts.XAxis x = new Charts.XAxis(n);
        assertTrue(x.bucketed);
        List<double[]> parts = Charts.line(s.values(), n, x, v -> -v); // y = -value: the spike is the smallest y
        assertEquals(1, parts.size(), "no gaps");
        double[] p = parts.get(0);
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int i = 1; i < p.length; i += 2) {
            minY = Math.min(minY, p[i]);
            maxY = Math.max(maxY, p[i]);
        }
        assertEquals(-10, minY, 0, "the spike is drawn to its full height");
        assertEquals(7, maxY, 0, "and the dip to its full depth");
        assertTrue(p.length / 2 <= 2 * x.buckets, p.length / 2 + " points for " + n + " rows");
        // the spike sits at its own pixel column
        for (int i = 1; i < p.length; i += 2) {
            if (p[i] == -10) {
                assertEquals(x.bucketX(x.bucket(12_345)), p[i - 1], 1e-9);
            }
        }
    }

    @Test
    void shouldDrawEveryRowWhenThereAreFewAndBreakTheLineWhereThereIsNoValue() {
        double[] a = {1, 2, Double.NaN, 4, 5};
        List<double[]> parts = Charts.line(a, 5, new Charts.XAxis(5), v -> v);
        assertEquals(2, parts.size());
        assertEquals(4, parts.get(0).length);
        assertEquals(4, parts.get(1).length);
    }

    @Test
    void shouldDrawEveryFlagAndLabelOfALongSeries() {
        int n = 22_000;
        KeySeries s = spiky(n, 12_345, 17_001, true);
        List<Evaluation.Run> runs = Evaluation.runs(s);
        assertEquals(1, runs.size());
        Scene scene = Charts.key(s, runs, 0.9999, true);
        long flags = scene.shapes.stream().filter(sh -> sh instanceof Scene.Circle c && "flag".equals(c.meta().cssClass()))
                .count();
        assertEquals(1, flags);
        Scene.Rect run = scene.shapes.stream().filter(sh -> sh instanceof Scene.Rect r && "label-run".equals(r.meta().cssClass()))
                .map(sh -> (Scene.Rect) sh).findFirst().orElseThrow();
        assertTrue(run.w() >= 2, "a one-row run of 22,000 is still 2 px wide");
        assertEquals("t17001", run.meta().data().get("first"));
    }

    @Test
    void shouldCountByTheStatedRule() {
        KeySeries s = new KeySeries("k");
        // labels:  0 1 1 0 1 0 0 1
        // flags:   1 0 1 0 0 1 0 0
        boolean[] label = {false, true, true, false, true, false, false, true};
        boolean[] flag = {true, false, true, false, false, true, false, false};
        for (int i = 0; i < label.length; i++) {
            s.add("t" + i, i, i, i, i, 0.5, flag[i], label[i], true, 0);
        }
        List<Evaluation.Run> runs = Evaluation.runs(s);
        assertEquals(List.of(new Evaluation.Run(1, 2, 2), new Evaluation.Run(4, 4, -1), new Evaluation.Run(7, 7, -1)), runs);
        Evaluation.Counts c = Evaluation.counts(s, runs);
        assertEquals(new Evaluation.Counts(8, 3, 1, 4, 3, 1), c);
        assertEquals(1.0 / 3, c.precision(), 0);
        assertEquals(1.0 / 3, c.recall(), 0);
        assertTrue(Double.isNaN(Evaluation.Counts.ZERO.precision()));
    }

    @Test
    void shouldReadOneAndOnlyOneAsAnAnomalyLabel() {
        assertTrue(Evaluation.isAnomalyLabel("1"));
        assertTrue(Evaluation.isAnomalyLabel(" 1.0 "));
        for (String no : new String[] {"0", "", "0.0", "2", "-1", "true", "NaN", "anomaly", "Infinity"}) {
            assertTrue(!Evaluation.isAnomalyLabel(no), no);
        }
    }

    @Test
    void shouldFormatScoresWithTheirNines() {
        assertEquals("0.5", Report.score(0.5));
        assertEquals("0.9999947", Report.score(0.999994704768431));
        assertEquals("0.9999", Report.score(0.9999));
        assertEquals("75.0% (3/4)", Report.share(3, 4));
        assertEquals("\u2013", Report.share(0, 0));
        assertEquals("72.9297", Report.num(72.92970657));
    }
}
