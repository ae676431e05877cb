package io.carousel.scoring;

import io.carousel.config.CarouselConfig;
import io.carousel.scoring.NabEvaluation.FileResult;
import io.carousel.scoring.NabEvaluation.Window;
import io.carousel.streams.Backtest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link NabEvaluation}'s counting over the whole product instead of a persistence forecaster:
 * each file of the sample through {@link Backtest} (the production topology: LSTM forecasts with
 * online retraining, the scorer, warm-up, alert runs) with the default configuration, or with
 * {@code --set key=value} overrides. Strictly online, as NAB requires.
 *
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.scoring.ProductNabEvaluation \
 *     [dataDir] [--set k=v]...
 * </pre>
 */
public final class ProductNabEvaluation {

    public static void main(String[] args) throws IOException {
        Path dir = NabEvaluation.DEFAULT_DIR;
        Map<String, String> overrides = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--set")) {
                String[] kv = args[++i].split("=", 2);
                overrides.put(kv[0], kv[1]);
            } else {
                dir = Path.of(args[i]);
            }
        }
        CarouselConfig config = CarouselConfig.of(overrides);
        List<FileResult> results = new ArrayList<>();
        for (Map.Entry<String, List<Window>> e : NabEvaluation.readWindows(dir).entrySet()) {
            long t0 = System.nanoTime();
            results.add(evaluate(dir, e.getKey(), e.getValue(), config));
            System.err.printf("%s: %.0f s%n", e.getKey(), (System.nanoTime() - t0) / 1e9);
        }
        System.out.println("the product (backtest: LSTM with online retraining), " + (overrides.isEmpty()
                ? "default configuration" : overrides));
        System.out.print(NabEvaluation.report(results, config.scoringConfig()));
    }

    static FileResult evaluate(Path dir, String file, List<Window> windows, CarouselConfig config) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve(file), StandardCharsets.UTF_8);
        int rows = lines.size() - 1;
        LocalDateTime[] times = new LocalDateTime[rows];
        double[] scores = new double[rows];
        boolean[] above = new boolean[rows];
        boolean[] alert = new boolean[rows];
        double threshold = config.scoringConfig().threshold();
        byte[] key = file.getBytes(StandardCharsets.UTF_8);
        try (Backtest bt = new Backtest(config)) {
            for (int i = 0; i < rows; i++) {
                String[] parts = lines.get(i + 1).split(",");
                times[i] = LocalDateTime.parse(parts[0].trim(), NabEvaluation.TIME);
                long ms = times[i].toInstant(ZoneOffset.UTC).toEpochMilli();
                byte[] event = ("{\"timestamp\":" + ms + ",\"value\":" + parts[1].trim() + "}").getBytes(StandardCharsets.UTF_8);
                Backtest.Result r = bt.process(key, event, ms);
                if (r.rejected()) {
                    throw new IllegalStateException(file + " row " + (i + 1) + ": " + r.rejection());
                }
                scores[i] = r.score();
                above[i] = r.score() >= threshold;
                alert[i] = r.anomaly();
            }
        }
        return NabEvaluation.count(file, times, scores, above, alert, windows);
    }

    private ProductNabEvaluation() {}
}
