package io.carousel.bench;

import io.carousel.config.CarouselConfig;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.LstmStepper;
import io.carousel.lstm.Optimizer;
import io.carousel.lstm.SeriesTrainer;
import io.carousel.streams.Backtest;
import io.carousel.streams.EventParser;
import io.carousel.streams.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Forecast quality with online retraining, per sample series: the production topology under
 * TopologyTestDriver ({@link Backtest}: training synchronous where the schedule says) over each CSV
 * of ../shared/data/nab-sample with the default configuration; one-step MAE of what was served
 * (persistence until the first accepted model, then the gate's choice), MASE against persistence
 * over the same rows, and the same LSTM trained offline on the whole series (an upper bound: it
 * has seen the future; with the configured training.loss) for comparison. Rows before the first
 * accepted model are excluded from every figure. {@code lstm%} is the share of the scored rows
 * whose forecast the LSTM made, {@code seas%} the seasonal forecast's, {@code smth%} the smoothed
 * forecast's (the forecast gate gave the rest to persistence).
 *
 * <pre>java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.bench.ForecastQualityBench [dir] [--set k=v]...</pre>
 */
public final class ForecastQualityBench {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 && !args[0].startsWith("--") ? args[0] : "../shared/data/nab-sample");
        Map<String, String> overrides = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--set")) {
                String[] kv = args[++i].split("=", 2);
                overrides.put(kv[0], kv[1]);
            }
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
        }
        System.out.printf(Locale.ROOT, "%-42s %6s %7s %9s %9s %7s %9s %7s %6s %6s %6s%n", "series", "rows", "scored", "MAE",
                "persist", "MASE", "offline", "MASE*", "lstm%", "seas%", "smth%");
        for (Path f : files) {
            row(f, overrides);
        }
    }

    private static void row(Path file, Map<String, String> overrides) throws Exception {
        List<String> lines = Files.readAllLines(file);
        int n = lines.size() - 1;
        long[] ts = new long[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            String[] c = lines.get(i + 1).split(",");
            ts[i] = EventParser.parseTimestamp(c[0], StreamSettings.TimeFormat.AUTO);
            v[i] = Double.parseDouble(c[1]);
        }
        CarouselConfig config = CarouselConfig.of(overrides);
        StreamSettings s = StreamSettings.from(config);
        double[] served = new double[n];
        long[] version = new long[n];
        boolean[] fromLstm = new boolean[n + 1]; // fromLstm[i]: the forecast for row i was the LSTM's
        boolean[] fromSeasonal = new boolean[n + 1];
        boolean[] fromSmoothed = new boolean[n + 1];
        try (Backtest bt = new Backtest(config)) {
            byte[] key = file.getFileName().toString().getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < n; i++) {
                Backtest.Result r = bt.process(key, ("{\"timestamp\":" + ts[i] + ",\"value\":" + v[i] + "}")
                        .getBytes(StandardCharsets.UTF_8), ts[i]);
                served[i] = r.forecast();
                version[i] = r.modelVersion();
                fromLstm[i + 1] = "lstm".equals(r.source());
                fromSeasonal[i + 1] = "seasonal".equals(r.source());
                fromSmoothed[i + 1] = "smoothed".equals(r.source());
            }
        }
        int first = 0;
        while (first < n && version[first] == 0) {
            first++;
        }
        double mae = 0;
        double persist = 0;
        int lstm = 0;
        int seasonal = 0;
        int smoothed = 0;
        for (int i = first; i < n; i++) {
            lstm += fromLstm[i] ? 1 : 0;
            seasonal += fromSeasonal[i] ? 1 : 0;
            smoothed += fromSmoothed[i] ? 1 : 0;
            mae += Math.abs(v[i] - served[i]);
            persist += Math.abs(v[i] - v[i - 1]);
        }
        int scored = n - first;
        mae /= Math.max(1, scored);
        persist /= Math.max(1, scored);
        double offline = offlineMae(v, first, s);
        System.out.printf(Locale.ROOT, "%-42s %6d %7d %9.4g %9.4g %7.3f %9.4g %7.3f %6.1f %6.1f %6.1f%n",
                file.getParent().getFileName() + "/" + file.getFileName(), n, scored, mae, persist,
                scored > 0 ? mae / persist : Double.NaN, offline, scored > 0 ? offline / persist : Double.NaN,
                scored > 0 ? 100.0 * lstm / scored : Double.NaN, scored > 0 ? 100.0 * seasonal / scored : Double.NaN,
                scored > 0 ? 100.0 * smoothed / scored : Double.NaN);
    }

    /** The same shape trained on the whole series (standardised with its own mean and sd), scored on rows [from, n). */
    private static double offlineMae(double[] v, int from, StreamSettings s) {
        int n = v.length;
        if (from >= n) {
            return Double.NaN;
        }
        double mean = 0;
        for (double x : v) {
            mean += x;
        }
        mean /= n;
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean);
        }
        double sd = Math.max(Math.sqrt(var / n), 1e-9);
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = (v[i] - mean) / sd;
        }
        LstmModel m = LstmModel.init(new LstmShape(1, s.hidden(), s.layers(), 1), s.seed());
        new SeriesTrainer(m, Optimizer.adam(m.parameterCount(), 0.005), new SeriesTrainer.Settings(64, 32, 20, 1.0, 8,
                s.retrain().loss()))
                .train(z, n, 0, null);
        LstmStepper step = new LstmStepper(m);
        double[] state = new double[m.shape().stateSize()];
        double[] out = new double[1];
        double sum = 0;
        for (int i = 0; i < n - 1; i++) {
            step.step(z, i, state, 0, out, 0);
            if (i + 1 >= from) {
                sum += Math.abs(v[i + 1] - (mean + sd * out[0]));
            }
        }
        return sum / Math.max(1, n - Math.max(from, 1));
    }

    private ForecastQualityBench() {}
}
