package io.carousel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.LstmStepper;
import io.carousel.lstm.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCommandTest {

    @TempDir
    Path dir;

    private Path init(int d, int h, int layers, int o, long seed) {
        Path m = dir.resolve("m0-" + seed + ".safetensors");
        CliRun r = CliRun.of("model", "init", "--input-size", "" + d, "--hidden", "" + h, "--layers", "" + layers,
                "--output-size", "" + o, "--seed", "" + seed, "--out", m.toString());
        assertEquals(0, r.exitCode(), r.err());
        return m;
    }

    private Path sineCsv(int rows) throws Exception {
        StringBuilder b = new StringBuilder("value,phase\n");
        for (int i = 0; i < rows; i++) {
            b.append(Math.sin(i / 4.0)).append(',').append(Math.cos(i / 4.0)).append('\n');
        }
        Path p = dir.resolve("sine.csv");
        Files.writeString(p, b);
        return p;
    }

    @Test
    void shouldInitTheSameWeightsForTheSameSeed() throws Exception {
        Path a = init(2, 8, 2, 1, 5);
        Path b = dir.resolve("again.safetensors");
        CliRun.of("model", "init", "--input-size", "2", "--hidden", "8", "--layers", "2", "--output-size", "1",
                "--seed", "5", "--out", b.toString());
        assertEquals(-1, Files.mismatch(a, b));
        assertEquals(new LstmShape(2, 8, 2, 1), Safetensors.read(a).shape());
    }

    @Test
    void shouldWriteTheHeadOutputAfterEveryRowCarryingStateThrough() throws Exception {
        Path m = init(2, 6, 1, 2, 1);
        Path x = sineCsv(30);
        Path y = dir.resolve("y.csv");
        CliRun r = CliRun.of("model", "forward", "--model", m.toString(), "--input", x.toString(), "--out", y.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(y);
        assertEquals("y0,y1", lines.get(0));
        assertEquals(31, lines.size());
        // the same numbers as stepping the engine directly (state carried across rows)
        LstmModel model = Safetensors.read(m);
        LstmStepper s = new LstmStepper(model);
        double[] state = new double[model.shape().stateSize()];
        double[] out = new double[2];
        for (int i = 0; i < 30; i++) {
            s.step(new double[] {Math.sin(i / 4.0), Math.cos(i / 4.0)}, 0, state, 0, out, 0);
            String[] cells = lines.get(i + 1).split(",");
            assertEquals(out[0], Double.parseDouble(cells[0]), 1e-8);
            assertEquals(out[1], Double.parseDouble(cells[1]), 1e-8);
        }
    }

    @Test
    void shouldTrainDeterministicallyAndLowerTheLoss() throws Exception {
        Path m0 = init(2, 8, 1, 1, 3);
        Path x = sineCsv(200);
        Path m1 = dir.resolve("m1.safetensors");
        Path m2 = dir.resolve("m2.safetensors");
        String[] args = {"model", "train", "--init", m0.toString(), "--input", x.toString(), "--seq-len", "16",
            "--epochs", "40", "--optimizer", "adam", "--lr", "0.01", "--clip", "1", "--batch", "4", "--out", ""};
        args[args.length - 1] = m1.toString();
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r.err());
        args[args.length - 1] = m2.toString();
        CliRun.of(args);
        assertEquals(-1, Files.mismatch(m1, m2), "same inputs, same bytes");
        String[] epochs = r.out().lines().filter(l -> l.startsWith("epoch ")).toArray(String[]::new);
        assertEquals(40, epochs.length);
        double first = Double.parseDouble(epochs[0].split(" ")[3]);
        double last = Double.parseDouble(epochs[39].split(" ")[3]);
        assertTrue(last < first / 10, "loss fell from " + first + " to " + last);
        assertNotEquals(-1, Files.mismatch(m0, m1));
    }

    @Test
    void shouldInspectShapeParametersAndMetadata() {
        Path m = init(1, 32, 1, 1, 9);
        CliRun r = CliRun.of("model", "inspect", "--model", m.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("input_size=1 hidden_size=32 num_layers=1 output_size=1"), r.out());
        assertTrue(r.out().contains("parameters: 4513"), r.out());
        assertTrue(r.out().contains("metadata seed=9"), r.out());
    }

    @Test
    void shouldRejectBadCsvCellsWithTheLineAndColumn() throws Exception {
        Path m = init(2, 4, 1, 1, 1);
        Path y = dir.resolve("y.csv");
        for (String[] c : new String[][] {
            {"a,b\n1,2\n3,x\n", "line 3, column 2 (b): not a number: 'x'"},
            {"a,b\n1,2\n3,NaN\n", "line 3, column 2 (b): NaN is not a finite number"},
            {"a,b\n1,2\n3\n", "line 3: 1 columns, expected 2"},
            {"a\n1\n", "line 1: the header has 1 columns, the model takes 2"},
            {"", "empty file"},
        }) {
            Path x = dir.resolve("bad.csv");
            Files.writeString(x, c[0]);
            CliRun r = CliRun.of("model", "forward", "--model", m.toString(), "--input", x.toString(), "--out", y.toString());
            assertEquals(1, r.exitCode());
            assertTrue(r.err().contains(c[1]), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
    }

    @Test
    void shouldGiveOneLineForBadFlagsAndFiles() {
        CliRun r = CliRun.of("model", "init", "--input-size", "x", "--hidden", "4", "--output-size", "1", "--out", "m");
        assertEquals(2, r.exitCode());
        assertEquals(1, r.err().lines().count(), r.err());
        r = CliRun.of("model", "init", "--input-size", "0", "--hidden", "4", "--output-size", "1", "--out", "m");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("input size must be between 1"), r.err());
        r = CliRun.of("model", "inspect", "--model", dir.resolve("nope.safetensors").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("no such file"), r.err());
        r = CliRun.of("model", "train", "--init", init(1, 2, 1, 1, 1).toString(), "--input", "x.csv", "--seq-len", "4",
                "--epochs", "1", "--lr", "0.1", "--optimizer", "rmsprop", "--out", "o");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("x.csv: no such file") || r.err().contains("--optimizer"), r.err());
    }

    @Test
    void shouldShowHelpForEverySubcommand() {
        for (String sub : new String[] {"init", "forward", "train", "inspect", "longlag"}) {
            CliRun r = CliRun.of("model", sub, "--help");
            assertEquals(0, r.exitCode());
            assertTrue(r.out().contains("Usage: carousel model " + sub), r.out());
        }
    }

    @Test
    void shouldPrintTheLongLagLinesAtASmallSize() {
        CliRun r = CliRun.of("model", "longlag", "--steps", "10", "--sequences", "640", "--hidden", "4", "--seed", "2");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("test_mse="), r.out());
        assertTrue(r.out().lines().reduce((a, b) -> b).orElseThrow().matches("longlag cell=lstm T=10 mse=\\d+\\.\\d+"), r.out());
    }
}
