package io.carousel.cli;

import io.carousel.lstm.AddingProblem;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code model longlag}: the adding problem, the proof that the error carousel carries gradients. */
@Command(name = "longlag", mixinStandardHelpOptions = true,
        description = "The adding problem (Hochreiter & Schmidhuber 1997, exp. 4): learn the sum of two marked "
                + "values up to T steps apart. Prints the test MSE per checkpoint; the baseline (target variance) is 0.1667.")
final class LongLagCommand implements Callable<Integer> {

    @Option(names = "--steps", required = true, description = "Sequence length T.")
    int steps;
    @Option(names = "--cell", defaultValue = "lstm", description = "lstm or rnn (default ${DEFAULT-VALUE}).")
    String cell;
    @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--hidden", description = "Hidden units (default 32).")
    Integer hidden;
    @Option(names = "--sequences", description = "Training sequences in all (default 120000).")
    Long sequences;
    @Option(names = "--lr", description = "Adam learning rate (default 0.005).")
    Double lr;
    @Option(names = "--batch", description = "Sequences per step (default 32).")
    Integer batch;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        AddingProblem.Cell c = switch (cell.toLowerCase(Locale.ROOT)) {
            case "lstm" -> AddingProblem.Cell.LSTM;
            case "rnn" -> AddingProblem.Cell.RNN;
            default -> throw new IllegalArgumentException("--cell must be lstm or rnn, got '" + cell + "'");
        };
        AddingProblem.Settings d = AddingProblem.defaults(steps);
        AddingProblem.Settings s = new AddingProblem.Settings(steps, hidden != null ? hidden : d.hidden(),
                batch != null ? batch : d.batch(), lr != null ? lr : d.lr(), d.clip(),
                sequences != null ? sequences : d.sequences(), d.testSize(), d.checkpoints());
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "longlag cell=%s T=%d hidden=%d batch=%d lr=%g sequences=%d seed=%d baseline=%.4f%n",
                cell, steps, s.hidden(), s.batch(), s.lr(), s.sequences(), seed, AddingProblem.BASELINE_MSE);
        o.flush();
        long start = System.nanoTime();
        double mse = AddingProblem.run(c, s, seed, (seen, train, test) -> {
            o.printf(Locale.ROOT, "sequences=%d train_mse=%.5f test_mse=%.5f elapsed=%.1fs%n",
                    seen, train, test, (System.nanoTime() - start) / 1e9);
            o.flush();
        });
        o.printf(Locale.ROOT, "longlag cell=%s T=%d mse=%.5f%n", c.name().toLowerCase(Locale.ROOT), steps, mse);
        return 0;
    }
}
