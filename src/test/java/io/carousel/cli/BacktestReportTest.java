package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code backtest --report}: the page parses as XML, has a section per key with every flagged row
 * and every labelled run, and its precision and recall are what the --out CSV gives when counted
 * here, independently, by the rule the page states.
 */
class BacktestReportTest {

    private static final String[] FAST = {"--set", "anomaly.warmup-events=20", "--set", "retrain.every-events=0",
        "--set", "retrain.drift=false"};

    /** NAB's sample, read-only (from the project directory). */
    private static final Path NAB = Path.of("../shared/data/nab-sample");

    @TempDir
    Path dir;

    /** Per key of the --out CSV: its rows' timestamp, anomaly and label, in order. */
    private record Rows(List<String> ts, List<Boolean> flagged, List<Boolean> label) {}

    /** What the page should say about a key, counted from the CSV. */
    private record Expected(long rows, long flagged, long tp, long runs, long found, Set<String> flaggedTs,
                            Set<String> runBounds) {
        double precision() {
            return (double) tp / flagged;
        }

        double recall() {
            return (double) found / runs;
        }
    }

    /** Two keys (one needing escaping), spikes labelled and not, a labelled window, a labelled point with nothing in it. */
    private static String labelledCsv() {
        StringBuilder b = new StringBuilder("timestamp,key,value,label\n");
        Random rnd = new Random(11);
        for (int i = 0; i < 600; i++) {
            long t = 1_700_000_000_000L + i * 60_000L;
            double a = 20 + 5 * Math.sin(2 * Math.PI * i / 48.0) + 0.2 * rnd.nextGaussian()
                    + (i == 200 ? 40 : 0) + (i == 350 ? -35 : 0) + (i >= 455 && i < 470 ? 25 : 0);
            boolean la = i == 200 || (i >= 450 && i <= 470) || i == 520;
            double c = 100 + 10 * Math.cos(2 * Math.PI * i / 60.0) + 0.5 * rnd.nextGaussian() + (i == 300 ? 90 : 0);
            boolean lc = i == 300 || i == 301;
            b.append(t).append(",a,").append(String.format(Locale.ROOT, "%.4f", a)).append(',').append(la ? 1 : 0).append('\n');
            b.append(t).append(",b&<x>,").append(String.format(Locale.ROOT, "%.4f", c)).append(',').append(lc ? 1 : 0)
                    .append('\n');
        }
        return b.toString();
    }

    private static Map<String, Rows> readOut(Path out) throws Exception {
        List<String> lines = Files.readAllLines(out);
        assertEquals("timestamp,key,value,forecast,anomaly_score,anomaly,lower,upper,label", lines.get(0));
        Map<String, Rows> keys = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",", -1);
            Rows r = keys.computeIfAbsent(c[1], k -> new Rows(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
            r.ts().add(c[0]);
            r.flagged().add(c[5].equals("1"));
            r.label().add(c[8].equals("1"));
        }
        return keys;
    }

    /** The rule, counted here on its own: TP = flagged and labelled; a run = consecutive labelled rows; found = has a flag. */
    private static Expected expected(Rows r) {
        long flagged = 0;
        long tp = 0;
        long runs = 0;
        long found = 0;
        Set<String> flaggedTs = new LinkedHashSet<>();
        Set<String> bounds = new LinkedHashSet<>();
        int n = r.ts().size();
        for (int i = 0; i < n; i++) {
            if (r.flagged().get(i)) {
                flagged++;
                flaggedTs.add(r.ts().get(i));
                if (r.label().get(i)) {
                    tp++;
                }
            }
            if (r.label().get(i) && (i == 0 || !r.label().get(i - 1))) {
                runs++;
                int j = i;
                boolean hit = false;
                while (j < n && r.label().get(j)) {
                    hit |= r.flagged().get(j);
                    j++;
                }
                found += hit ? 1 : 0;
                bounds.add(r.ts().get(i) + ".." + r.ts().get(j - 1));
            }
        }
        return new Expected(n, flagged, tp, runs, found, flaggedTs, bounds);
    }

    private static Document parse(Path html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        f.setExpandEntityReferences(false);
        DocumentBuilder db = f.newDocumentBuilder();
        db.setErrorHandler(null);
        // throws on any unbalanced tag, unquoted attribute or stray & or <
        return db.parse(new ByteArrayInputStream(Files.readAllBytes(html)));
    }

    private static List<Element> byClass(Element root, String tag, String cls) {
        List<Element> out = new ArrayList<>();
        NodeList all = root.getElementsByTagName(tag);
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (List.of(e.getAttribute("class").split(" ")).contains(cls)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String share(long num, long den) {
        return String.format(Locale.ROOT, "%.1f%% (%,d/%,d)", 100.0 * num / den, num, den);
    }

    /** Checks a page against the CSV; returns the expected counts per key. */
    private static Map<String, Expected> check(Document page, Map<String, Rows> csv) {
        Element root = page.getDocumentElement();
        List<Element> sections = byClass(root, "section", "key");
        assertEquals(csv.size(), sections.size(), "one section per key");
        Map<String, Expected> all = new LinkedHashMap<>();
        int k = 0;
        for (Map.Entry<String, Rows> e : csv.entrySet()) {
            Element s = sections.get(k++);
            Expected x = expected(e.getValue());
            all.put(e.getKey(), x);
            assertEquals(e.getKey(), s.getAttribute("data-key"));
            assertEquals(e.getKey(), s.getElementsByTagName("h2").item(0).getTextContent());
            assertEquals(Long.toString(x.rows()), s.getAttribute("data-rows"));
            assertEquals(Long.toString(x.flagged()), s.getAttribute("data-flagged"));
            assertEquals(Long.toString(x.tp()), s.getAttribute("data-true-positives"));
            assertEquals(Long.toString(x.runs()), s.getAttribute("data-runs"));
            assertEquals(Long.toString(x.found()), s.getAttribute("data-detected-runs"));
            assertEquals(x.precision(), Double.parseDouble(s.getAttribute("data-precision")), 1e-12, e.getKey());
            assertEquals(x.recall(), Double.parseDouble(s.getAttribute("data-recall")), 1e-12, e.getKey());
            assertEquals(share(x.tp(), x.flagged()), byClass(s, "span", "precision").get(0).getTextContent());
            assertEquals(share(x.found(), x.runs()), byClass(s, "span", "recall").get(0).getTextContent());

            // every flagged row is drawn (and listed), and nothing else is
            Set<String> drawn = new LinkedHashSet<>();
            for (Element c : byClass(s, "circle", "flag")) {
                drawn.add(c.getAttribute("data-ts"));
            }
            assertEquals(x.flaggedTs(), drawn, "flagged rows drawn for " + e.getKey());
            assertEquals(x.flagged(), byClass(s, "tr", "flag").size(), "flagged rows listed for " + e.getKey());
            // every labelled run is drawn
            Set<String> runs = new LinkedHashSet<>();
            for (Element r : byClass(s, "rect", "label-run")) {
                runs.add(r.getAttribute("data-first") + ".." + r.getAttribute("data-last"));
            }
            assertEquals(x.runBounds(), runs, "labelled runs drawn for " + e.getKey());
            assertEquals(x.runs(), byClass(s, "tr", "run").size());
            assertEquals(1, byClass(s, "svg", "chart").size());
        }
        return all;
    }

    @Test
    void shouldShowEachKeyWithItsFlagsLabelsAndThePrecisionAndRecallOfTheCsv() throws Exception {
        Path in = dir.resolve("labelled.csv");
        Files.writeString(in, labelledCsv());
        Path out = dir.resolve("out.csv");
        Path html = dir.resolve("report.html");
        Path png = dir.resolve("report.png");
        List<String> args = new ArrayList<>(List.of("backtest", "--input", in.toString(), "--out", out.toString(),
                "--report", html.toString(), "--report", png.toString(), "--set", "anomaly.threshold=0.999"));
        args.addAll(List.of(FAST));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("report in " + html + " and " + png), r.err());
        assertFalse(r.err().contains("\r") || r.out().contains("\r"), "no progress bar off a terminal");

        Map<String, Rows> csv = readOut(out);
        assertEquals(List.of("a", "b&<x>"), List.copyOf(csv.keySet()));
        Document page = parse(html);
        Map<String, Expected> x = check(page, csv);

        // the data is not trivial: something right, something wrong, something missed
        long tp = x.values().stream().mapToLong(Expected::tp).sum();
        long flagged = x.values().stream().mapToLong(Expected::flagged).sum();
        long runs = x.values().stream().mapToLong(Expected::runs).sum();
        long found = x.values().stream().mapToLong(Expected::found).sum();
        assertTrue(tp > 0 && tp < flagged, tp + " of " + flagged + " flags are right");
        assertTrue(found > 0 && found < runs, found + " of " + runs + " runs found");
        assertEquals(4, runs);
        // the totals: the counts of all keys added up
        Element summary = byClass(page.getDocumentElement(), "table", "summary").get(0);
        assertEquals((double) tp / flagged, Double.parseDouble(summary.getAttribute("data-precision")), 1e-12);
        assertEquals((double) found / runs, Double.parseDouble(summary.getAttribute("data-recall")), 1e-12);
        String text = page.getDocumentElement().getTextContent();
        assertTrue(text.contains("How precision and recall are counted"), "the page states the rule");

        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1200, img.getWidth());
        assertTrue(img.getHeight() > 2 * 400, "two charts: " + img.getHeight());
        assertTrue(Files.notExists(dir.resolve("report.html.partial")) && Files.notExists(dir.resolve("report.png.partial")));

        // without --report, the same CSV and the same summary, less the report's part
        Path plain = dir.resolve("plain.csv");
        List<String> without = new ArrayList<>(List.of("backtest", "--input", in.toString(), "--out", plain.toString(),
                "--set", "anomaly.threshold=0.999"));
        without.addAll(List.of(FAST));
        CliRun p = CliRun.of(without.toArray(String[]::new));
        assertEquals(0, p.exitCode(), p.err());
        assertEquals(-1, Files.mismatch(out, plain), "--report changes nothing in the CSV");
        assertEquals(r.err().strip().replace(out.toString(), "X").replaceAll("; report in .*$", ""),
                p.err().strip().replace(plain.toString(), "X"));
    }

    /** A NAB series with its anomaly window as the label: more rows than pixels, so the chart is bucketed. */
    @Test
    void shouldReportANabSeriesWithItsWindowAsTheLabel() throws Exception {
        String file = "artificialWithAnomaly/art_daily_jumpsup.csv";
        JsonNode windows = new ObjectMapper().readTree(NAB.resolve("windows.json").toFile()).get(file);
        // the first 3,200 of its 4,032 rows: the whole window, and more rows than the chart has pixel columns
        List<String> lines = Files.readAllLines(NAB.resolve(file)).subList(0, 3_201);
        StringBuilder b = new StringBuilder("timestamp,value,label\n");
        for (String line : lines.subList(1, lines.size())) {
            String ts = line.substring(0, line.indexOf(','));
            boolean in = false;
            for (JsonNode w : windows) {
                in |= ts.compareTo(w.get(0).asText().substring(0, 19)) >= 0 && ts.compareTo(w.get(1).asText().substring(0, 19)) <= 0;
            }
            b.append(line).append(',').append(in ? 1 : 0).append('\n');
        }
        Path in = dir.resolve("art_daily_jumpsup.csv");
        Files.writeString(in, b.toString());
        Path out = dir.resolve("out.csv");
        Path html = dir.resolve("nab.html");
        List<String> a = new ArrayList<>(List.of("backtest", "--input", in.toString(), "--out", out.toString(),
                "--report", html.toString(), "--set", "retrain.every-events=0", "--set", "retrain.drift=false"));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        Map<String, Rows> csv = readOut(out);
        assertEquals(lines.size() - 1, csv.get("art_daily_jumpsup").ts().size());
        Document page = parse(html);
        Map<String, Expected> x = check(page, csv);
        assertEquals(windows.size(), x.get("art_daily_jumpsup").runs());
        // at most two points per pixel column for a line, however many rows
        Element value = byClass(page.getDocumentElement(), "path", "value").get(0);
        long points = value.getAttribute("d").chars().filter(ch -> ch == 'L' || ch == 'M').count();
        assertTrue(points <= 2 * 1200 && points > 1000, points + " points for " + (lines.size() - 1) + " rows");
        assertTrue(Files.size(html) < 400_000, Files.size(html) + " bytes");
    }

    @Test
    void shouldRefuseAReportThatIsNeitherHtmlNorPngBeforeRunning() throws Exception {
        Path in = dir.resolve("s.csv");
        Files.writeString(in, "timestamp,value\n2024-01-01T00:00:00Z,1\n");
        Path out = dir.resolve("o.csv");
        CliRun r = CliRun.of("backtest", "--input", in.toString(), "--out", out.toString(), "--report",
                dir.resolve("r.txt").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("carousel: --report " + dir.resolve("r.txt") + ": expected a .html"), r.err());
        assertTrue(Files.notExists(out));
        CliRun missing = CliRun.of("backtest", "--input", in.toString(), "--report", dir.resolve("no/such/r.html").toString());
        assertEquals(1, missing.exitCode());
        assertEquals("carousel: " + dir.resolve("no/such/r.html") + ": cannot write (no such directory)",
                missing.err().strip());
    }

    @Test
    void shouldWriteAPageWithoutLabelsToo() throws Exception {
        Path in = dir.resolve("sensor.csv");
        StringBuilder b = new StringBuilder("timestamp,value\n");
        for (int i = 0; i < 300; i++) {
            b.append(1_700_000_000L + i * 60).append(',').append(i == 200 ? 50 : Math.sin(i / 5.0)).append('\n');
        }
        Files.writeString(in, b.toString());
        Path html = dir.resolve("r.html");
        List<String> a = new ArrayList<>(List.of("backtest", "--input", in.toString(), "--report", html.toString()));
        a.addAll(List.of(FAST));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith(BacktestCommand.HEADER + "\n"), "the CSV still goes to standard output");
        Document page = parse(html);
        List<Element> sections = byClass(page.getDocumentElement(), "section", "key");
        assertEquals(1, sections.size());
        assertEquals("", sections.get(0).getAttribute("data-precision"));
        long flagged = r.out().lines().skip(1).filter(l -> l.split(",", -1)[5].equals("1")).count();
        assertTrue(flagged >= 1);
        assertEquals(flagged, byClass(sections.get(0), "circle", "flag").size());
        assertTrue(new String(Files.readAllBytes(html), StandardCharsets.UTF_8).contains("need a <code>label</code> column"));
    }
}
