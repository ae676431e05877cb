package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BacktestCommandTest {

    private static final String[] FAST = {"--set", "anomaly.warmup-events=20", "--set", "retrain.every-events=0",
        "--set", "retrain.drift=false"};

    @TempDir
    Path dir;

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** A NAB-style series: a noisy daily-like sine every 5 minutes, one spike at {@code spikeAt}. */
    private static String nab(int rows, int spikeAt, boolean label) {
        StringBuilder b = new StringBuilder(label ? "timestamp,value,label\n" : "timestamp,value\n");
        Random rnd = new Random(3);
        for (int i = 0; i < rows; i++) {
            long t = 1_396_310_400_000L + i * 300_000L;
            String ts = java.time.Instant.ofEpochMilli(t).toString().replace('T', ' ').replace("Z", "");
            double v = 20 + 5 * Math.sin(2 * Math.PI * i / 48.0) + 0.2 * rnd.nextGaussian() + (i == spikeAt ? 40 : 0);
            b.append(ts).append(',').append(String.format(Locale.ROOT, "%.4f", v));
            if (label) {
                b.append(',').append(i == spikeAt ? 1 : 0);
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String[] args(Path in, Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("backtest", "--input", in.toString()));
        if (out != null) {
            a.addAll(List.of("--out", out.toString()));
        }
        a.addAll(List.of(FAST));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void shouldWriteOneRowPerInputRowWithTheForecastMadeForIt() throws Exception {
        Path in = write("sensor-9.csv", nab(200, 150, true));
        Path out = dir.resolve("out.csv");
        CliRun r = CliRun.of(args(in, out));
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals("timestamp,key,value,forecast,anomaly_score,anomaly,lower,upper,label", lines.get(0));
        assertEquals(201, lines.size());
        String[] first = lines.get(1).split(",", -1);
        assertEquals("2014-04-01 00:00:00", first[0]);
        assertEquals("sensor-9", first[1]);
        assertEquals("", first[3], "a key's first row has no forecast");
        assertEquals("", first[6]);
        for (int i = 2; i <= 200; i++) {
            String[] c = lines.get(i).split(",", -1);
            String[] prev = lines.get(i - 1).split(",", -1);
            assertEquals(9, c.length, lines.get(i));
            // untrained: the forecast is persistence, the previous row's value
            assertEquals(Double.parseDouble(prev[2]), Double.parseDouble(c[3]), 1e-12, lines.get(i));
            double score = Double.parseDouble(c[4]);
            assertTrue(score >= 0 && score <= 1, lines.get(i));
            if (i > 3) {
                assertTrue(Double.parseDouble(c[6]) <= Double.parseDouble(c[3])
                        && Double.parseDouble(c[3]) <= Double.parseDouble(c[7]), "interval around the forecast: " + lines.get(i));
            }
        }
        String[] spike = lines.get(151).split(",", -1);
        assertEquals("1", spike[5], "the spike is flagged: " + lines.get(151));
        assertEquals("1", spike[8], "the label is carried through");
        long flagged = lines.stream().skip(1).filter(l -> l.split(",", -1)[5].equals("1")).count();
        assertTrue(flagged <= 3, flagged + " rows flagged");
        assertTrue(r.err().contains("backtest: 200 rows of 1 key"), r.err());
    }

    @Test
    void shouldGiveTheSameBytesForTheSameInputWithRetraining() throws Exception {
        Path in = write("s.csv", nab(400, -1, false));
        Path a = dir.resolve("a.csv");
        Path b = dir.resolve("b.csv");
        String[] retrain = {"--set", "retrain.every-events=150", "--set", "retrain.epochs=10", "--set", "retrain.seq-len=16",
            "--set", "model.hidden=8"};
        assertEquals(0, CliRun.of(args(in, a, retrain)).exitCode());
        assertEquals(0, CliRun.of(args(in, b, retrain)).exitCode());
        assertEquals(-1, Files.mismatch(a, b), "backtest is deterministic");
        // retraining took place: from some row on, the forecast is no longer the previous value
        List<String> lines = Files.readAllLines(a);
        boolean lstm = false;
        for (int i = 300; i < lines.size(); i++) {
            double f = Double.parseDouble(lines.get(i).split(",")[3]);
            double prev = Double.parseDouble(lines.get(i - 1).split(",")[2]);
            lstm |= f != prev;
        }
        assertTrue(lstm, "after retraining the LSTM forecasts");
    }

    @Test
    void shouldLearnASineWellBelowPersistenceWithTheDefaultRetraining() throws Exception {
        Path in = write("sine.csv", nab(1400, -1, false));
        Path out = dir.resolve("out.csv");
        CliRun r = CliRun.of("backtest", "--input", in.toString(), "--out", out.toString(),
                "--set", "retrain.every-events=600", "--set", "retrain.epochs=15");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out);
        double mae = 0;
        double persistence = 0;
        for (int i = 1101; i <= 1400; i++) {
            String[] c = lines.get(i).split(",");
            double v = Double.parseDouble(c[2]);
            mae += Math.abs(v - Double.parseDouble(c[3]));
            persistence += Math.abs(v - Double.parseDouble(lines.get(i - 1).split(",")[2]));
        }
        assertTrue(mae < 0.7 * persistence, "MAE " + mae / 300 + " vs persistence " + persistence / 300);
    }

    @Test
    void shouldReadKeyedCsvsAndKeepEachKeysStateApart() throws Exception {
        StringBuilder b = new StringBuilder("timestamp,key,value,temp\n");
        for (int i = 0; i < 30; i++) {
            b.append(1_700_000_000_000L + i * 1000).append(",a,").append(i).append(",1.5\n");
            b.append(1_700_000_000_000L + i * 1000).append(",b,").append(100 - i).append(",2.5\n");
        }
        Path out = dir.resolve("out.csv");
        CliRun r = CliRun.of(args(write("k.csv", b.toString()), out, "--set", "events.features=/value,/temp"));
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(61, lines.size());
        assertEquals("timestamp,key,value,forecast,anomaly_score,anomaly,lower,upper", lines.get(0));
        // row 5 is key a's 3rd event (value 2): persistence forecasts a's previous value 1, not b's
        String[] c = lines.get(5).split(",");
        assertEquals("a", c[1]);
        assertEquals(1.0, Double.parseDouble(c[3]), 1e-12);
        assertTrue(r.err().contains("of 2 keys"), r.err());
    }

    @Test
    void shouldStopAtABadRowNamingItsLine() throws Exception {
        Path in = write("bad.csv", "timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,x\n2024-01-01T00:02:00Z,3\n");
        Path out = dir.resolve("out.csv");
        CliRun r = CliRun.of(args(in, out));
        assertEquals(1, r.exitCode());
        assertEquals("carousel: " + in + " line 3: value is not a number: 'x'", r.err().strip());
        assertTrue(Files.notExists(out), "no half-written output");
        assertTrue(Files.notExists(dir.resolve("out.csv.partial")));
    }

    @Test
    void shouldSkipBadRowsToStandardErrorWhenAsked() throws Exception {
        Path in = write("bad.csv", "timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,x\nnot-a-time,2\n"
                + "2024-01-01T00:02:00Z,3\n2024-01-01T00:00:30Z,4\n");
        Path out = dir.resolve("out.csv");
        CliRun r = CliRun.of(args(in, out, "--skip-bad", "--set", "events.out-of-order=dead-letter"));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(3, Files.readAllLines(out).size(), "header and the two good rows");
        assertTrue(r.err().contains(in + " line 3: value is not a number"), r.err());
        assertTrue(r.err().contains(in + " line 4: "), r.err());
        assertTrue(r.err().contains(in + " line 6: OUT_OF_ORDER"), "the topology's dead letters count as bad rows: " + r.err());
        assertTrue(r.err().contains("3 bad rows skipped"), r.err());
    }

    @Test
    void shouldFailOnARowTheTopologyDeadLettersWithoutSkipBad() throws Exception {
        Path in = write("late.csv", "timestamp,value\n2024-01-01T00:01:00Z,1\n2024-01-01T00:00:00Z,2\n");
        CliRun r = CliRun.of(args(in, dir.resolve("o.csv"), "--set", "events.out-of-order=dead-letter"));
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("carousel: " + in + " line 3: OUT_OF_ORDER"), r.err());
    }

    @Test
    void shouldWriteToStandardOutputWithoutOut() throws Exception {
        CliRun r = CliRun.of(args(write("s.csv", nab(5, -1, false)), null));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(6, r.out().lines().count());
        assertTrue(r.out().startsWith(BacktestCommand.HEADER + "\n"));
    }

    @Test
    void shouldRefuseAMissingFileInOneLine() {
        CliRun r = CliRun.of("backtest", "--input", dir.resolve("nope.csv").toString());
        assertEquals(1, r.exitCode());
        assertEquals("carousel: " + dir.resolve("nope.csv") + ": no such file", r.err().strip());
    }
}
