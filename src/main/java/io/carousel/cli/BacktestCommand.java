package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import io.carousel.report.Report;
import io.carousel.streams.Backtest;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code backtest}: the processor's per-key logic over a CSV, offline and deterministic (the
 * production topology under {@link Backtest}), writing each row's forecast and anomaly score.
 */
@Command(name = "backtest", mixinStandardHelpOptions = true,
        description = {"Run the processor's per-key logic (forecast, anomaly score, retraining) over a CSV, offline.",
            "Input: a header row, then timestamp,value (NAB; the key is the file's name without extension) or"
                + " timestamp,key,value[,more feature columns]. A label column is ground truth: never an input,"
                + " carried to the output as its last column.",
            "Output: timestamp,key,value,forecast,anomaly_score,anomaly,lower,upper[,label], one row per input row in"
                + " input order: forecast is what had been forecast for the row (empty for a key's first row),"
                + " lower..upper its interval, anomaly 1 when the row was flagged, else 0.",
            "With --report, also a report of the run: per key the series, the forecast and its interval, the anomaly"
                + " score and the flagged rows, and with a label column the labelled anomalies, precision and recall.",
            "The same input and configuration always give the same output bytes."})
final class BacktestCommand implements Callable<Integer> {

    static final String HEADER = "timestamp,key,value,forecast,anomaly_score,anomaly,lower,upper";

    @Option(names = "--input", required = true, paramLabel = "FILE.csv", description = "The CSV of events.")
    Path input;

    @Option(names = "--out", paramLabel = "OUT.csv", description = "Where to write the rows (default: standard output).")
    Path output;

    @Option(names = "--skip-bad", description = "Report a bad row on standard error and go on, instead of stopping at it.")
    boolean skipBad;

    @Option(names = "--report", paramLabel = "REPORT.html",
            description = {"Also write a report of the run: a self-contained HTML page (REPORT.html; no network needed"
                + " to view it) or an image (REPORT.png). Repeatable, e.g. --report r.html --report r.png.",
                "Precision = flagged rows labelled 1 / flagged rows; recall = labelled runs (runs of consecutive rows"
                    + " labelled 1) with a flagged row / labelled runs."})
    List<Path> reports = new ArrayList<>();

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    /** The interval of the forecast a key holds for its next row: the previous row's lower and upper. */
    private record Interval(double lower, double upper) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        CarouselConfig cfg = config.load();
        // the driver's state lives in a temporary directory on purpose: Kafka Streams' warning about it is noise here
        Configurator.setLevel("org.apache.kafka.streams.processor.internals.StateDirectory", Level.ERROR);
        EventCsv csv = EventCsv.open(input, null, cfg);
        for (Path r : reports) {
            reportFormat(r);
        }
        Report report = reports.isEmpty() ? null : new Report(input.toString(), cfg.anomalyThreshold(), csv.hasLabel());
        for (Path r : reports) {
            try {
                Files.write(partial(r), new byte[0]); // a place that cannot be written fails now, not after the run
            } catch (IOException e) {
                deletePartials();
                throw new UncheckedIOException(r + ": cannot write (" + describe(e) + ")", e);
            }
        }
        long rows = 0;
        long skipped = 0;
        long flagged = 0;
        Map<String, Interval> intervals = new HashMap<>();
        Path partial = output == null ? null : partial(output);
        Progress.Where where = Progress.where(Progress.Terminal.system(), output == null);
        Progress progress = where == Progress.Where.NONE ? Progress.off()
                : new Progress(where == Progress.Where.OUT ? spec.commandLine().getOut() : err, csv.countLines(), System::nanoTime);
        try (Progress bar = progress; Writer w = open(partial); Backtest bt = new Backtest(cfg)) {
            w.write(HEADER + (csv.hasLabel() ? "," + EventCsv.LABEL : "") + "\n");
            EventCsv.Reader reader = csv.reader(skipBad);
            while (true) {
                bar.update(rows + skipped);
                EventCsv.Row row;
                try {
                    row = reader.next();
                } catch (EventCsv.BadRow e) {
                    if (!skipBad) {
                        throw e;
                    }
                    skipped++;
                    bar.clear();
                    err.println("carousel: skipped " + e.getMessage());
                    continue;
                }
                if (row == null) {
                    break;
                }
                Backtest.Result r = bt.process(row.key(), row.value(), row.time());
                if (r.rejected()) {
                    String msg = input + " line " + row.line() + ": " + r.rejection();
                    if (!skipBad) {
                        throw new IllegalArgumentException(msg + " (--skip-bad to go on past such rows)");
                    }
                    skipped++;
                    bar.clear();
                    err.println("carousel: skipped " + msg);
                    continue;
                }
                String key = new String(row.key(), StandardCharsets.UTF_8);
                Interval before = intervals.put(key, new Interval(r.lower(), r.upper()));
                double lower = before == null ? Double.NaN : before.lower();
                double upper = before == null ? Double.NaN : before.upper();
                StringBuilder line = new StringBuilder(96);
                line.append(cell(row.timestamp())).append(',').append(cell(key)).append(',').append(cell(row.valueText()))
                        .append(',').append(number(r.forecast())).append(',').append(number(r.score()))
                        .append(',').append(r.anomaly() ? '1' : '0')
                        .append(',').append(number(lower))
                        .append(',').append(number(upper));
                if (csv.hasLabel()) {
                    line.append(',').append(cell(row.label()));
                }
                w.write(line.append('\n').toString());
                if (report != null) {
                    report.add(key, row.timestamp(), parse(row.valueText()), r.forecast(), lower, upper, r.score(),
                            r.anomaly(), row.label(), r.warm(), r.modelVersion());
                }
                rows++;
                flagged += r.anomaly() ? 1 : 0;
            }
        } catch (RuntimeException | IOException e) {
            if (partial != null) {
                Files.deleteIfExists(partial);
            }
            deletePartials();
            throw e;
        }
        try {
            for (Path r : reports) {
                writeReport(report, r);
            }
        } catch (RuntimeException e) {
            deletePartials();
            if (partial != null) {
                Files.deleteIfExists(partial);
            }
            throw e;
        }
        if (partial != null) {
            Files.move(partial, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        for (Path r : reports) {
            Files.move(partial(r), r, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        err.println("backtest: " + rows + " rows of " + intervals.size() + (intervals.size() == 1 ? " key" : " keys")
                + ", " + flagged + " flagged as anomalies" + (skipped > 0 ? ", " + skipped + " bad rows skipped" : "")
                + (output == null ? "" : ", written to " + output)
                + (reports.isEmpty() ? "" : "; report in " + String.join(" and ", reports.stream().map(Path::toString).toList())));
        err.flush();
        return 0;
    }

    private void writeReport(Report report, Path file) {
        try {
            if (reportFormat(file).equals("png")) {
                report.writePng(partial(file));
            } else {
                report.writeHtml(partial(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the report (" + describe(e) + ")", e);
        }
    }

    private void deletePartials() {
        for (Path r : reports) {
            try {
                Files.deleteIfExists(partial(r));
            } catch (IOException ignored) {
                // it was never written, or cannot be: nothing to clean
            }
        }
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return String.valueOf(e.getMessage());
    }

    /** Where a file is written first, so that a failed run leaves no half file under its name. */
    private static Path partial(Path file) {
        return file.resolveSibling(file.getFileName() + ".partial");
    }

    /** "html" or "png", by the report file's extension. */
    private static String reportFormat(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".html") || name.endsWith(".htm")) {
            return "html";
        }
        if (name.endsWith(".png")) {
            return "png";
        }
        throw new IllegalArgumentException("--report " + file + ": expected a .html (a page) or .png (an image) file name");
    }

    /** The value cell as a number for the report; NaN when there is none (a nested feature). */
    private static double parse(String cell) {
        try {
            return cell.isEmpty() ? Double.NaN : Double.parseDouble(cell);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The output file (written beside it first, so a failed run leaves no half file), or standard output. */
    private Writer open(Path partial) throws IOException {
        if (partial == null) {
            PrintWriter out = spec.commandLine().getOut();
            return new Writer() {
                @Override
                public void write(char[] cbuf, int off, int len) {
                    out.write(cbuf, off, len);
                }

                @Override
                public void flush() {
                    out.flush();
                }

                @Override
                public void close() {
                    out.flush();
                }
            };
        }
        try {
            return new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(partial), StandardCharsets.UTF_8), 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException(output + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** Shortest round-tripping decimal; empty for "none" (NaN). */
    static String number(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    /** A CSV cell, quoted when it holds a comma, a quote or a line break. */
    static String cell(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
