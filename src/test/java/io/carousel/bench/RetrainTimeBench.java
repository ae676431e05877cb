package io.carousel.bench;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.Optimizer;
import io.carousel.lstm.SeriesTrainer;
import java.util.Arrays;

/**
 * Time to retrain one model as the stream does (history 2,000 events, H = 32, L = 64, 5 epochs,
 * batch 32, overlapping windows every 8 steps, Adam): prints the median of repeated runs.
 * Run by {@link RetrainLatencyBench}, or alone with the same classpath.
 */
public final class RetrainTimeBench {

    public static void main(String[] args) {
        System.out.printf("retrain one model: %.0f ms (median of 5)%n", medianMillis(5));
    }

    static double medianMillis(int runs) {
        int rows = 2000;
        double[] series = new double[rows];
        for (int i = 0; i < rows; i++) {
            series[i] = Math.sin(2 * Math.PI * i / 48.0) + 0.1 * Math.sin(i * 1.7);
        }
        double[] ms = new double[runs + 1];
        for (int r = 0; r <= runs; r++) { // the first run warms the JIT up and is not counted
            LstmModel m = LstmModel.init(new LstmShape(1, 32, 1, 1), r);
            SeriesTrainer t = new SeriesTrainer(m, Optimizer.adam(m.parameterCount(), 0.005),
                    new SeriesTrainer.Settings(64, 32, 5, 1.0, 8));
            long t0 = System.nanoTime();
            t.train(series, rows * 4 / 5, 0, null);
            ms[r] = (System.nanoTime() - t0) / 1e6;
        }
        double[] counted = Arrays.copyOfRange(ms, 1, ms.length);
        Arrays.sort(counted);
        return counted[counted.length / 2];
    }
}
