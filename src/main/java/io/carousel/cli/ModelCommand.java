package io.carousel.cli;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.LstmStepper;
import io.carousel.lstm.Optimizer;
import io.carousel.lstm.ParamLayout;
import io.carousel.lstm.Safetensors;
import io.carousel.lstm.SeriesTrainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code model}: create, run, train and inspect LSTM weights in safetensors files. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Train, run, export and inspect LSTM weights (safetensors).",
        subcommands = {ModelCommand.Init.class, ModelCommand.Forward.class, ModelCommand.Train.class,
            ModelCommand.Inspect.class, LongLagCommand.class})
final class ModelCommand {

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Write a freshly initialised model (PyTorch's default init, from a seed).")
    static final class Init implements Callable<Integer> {
        @Option(names = "--input-size", required = true, description = "Inputs per time step (D).")
        int inputSize;
        @Option(names = "--hidden", required = true, description = "Hidden units per layer (H).")
        int hidden;
        @Option(names = "--layers", defaultValue = "1", description = "Stacked LSTM layers (default ${DEFAULT-VALUE}).")
        int layers;
        @Option(names = "--output-size", required = true, description = "Outputs of the linear head (O).")
        int outputSize;
        @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}): same seed, same weights.")
        long seed;
        @Option(names = "--out", required = true, description = "Where to write the .safetensors file.")
        Path out;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LstmModel m = LstmModel.init(new LstmShape(inputSize, hidden, layers, outputSize), seed);
            m.putMetadata("seed", Long.toString(seed));
            Safetensors.write(out, m, false);
            spec.commandLine().getOut().printf("wrote %s: %s, %d parameters%n", out, m.shape(), m.parameterCount());
            return 0;
        }
    }

    @Command(name = "forward", mixinStandardHelpOptions = true,
            description = "Run a model over a CSV of inputs from zero state; write the head's output after each row.")
    static final class Forward implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "The .safetensors model.")
        Path model;
        @Option(names = "--input", required = true, description = "CSV: a header row, then D numeric columns per row.")
        Path input;
        @Option(names = "--out", required = true, description = "CSV written with header y0..y{O-1}, one row per input row.")
        Path out;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LstmModel m = Safetensors.read(model);
            LstmShape s = m.shape();
            CsvMatrix x = CsvMatrix.read(input, s.inputSize());
            LstmStepper stepper = new LstmStepper(m);
            double[] state = new double[s.stateSize()];
            double[] y = new double[x.rows() * s.outputSize()];
            for (int r = 0; r < x.rows(); r++) {
                stepper.step(x.values(), r * s.inputSize(), state, 0, y, r * s.outputSize());
            }
            String[] header = new String[s.outputSize()];
            for (int o = 0; o < header.length; o++) {
                header[o] = "y" + o;
            }
            CsvMatrix.write(out, header, y, s.outputSize());
            spec.commandLine().getOut().printf("wrote %s: %d rows%n", out, x.rows());
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train a model on a CSV series: step t's target is the first O columns of row t+1; "
                    + "non-overlapping windows of --seq-len from zero state, --batch windows per optimizer step, "
                    + "epochs in the same order. Deterministic.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--init", required = true, description = "The starting model (.safetensors).")
        Path init;
        @Option(names = "--input", required = true, description = "CSV: a header row, then D numeric columns per row.")
        Path input;
        @Option(names = "--seq-len", required = true, description = "Inputs per window (L).")
        int seqLen;
        @Option(names = "--epochs", required = true, description = "Passes over all windows.")
        int epochs;
        @Option(names = "--optimizer", defaultValue = "adam", description = "adam or sgd (default ${DEFAULT-VALUE}).")
        String optimizer;
        @Option(names = "--lr", required = true, description = "Learning rate.")
        double lr;
        @Option(names = "--clip", defaultValue = "0", description = "Clip the gradient's global norm to this (0 = off).")
        double clip;
        @Option(names = "--batch", defaultValue = "1", description = "Windows per optimizer step (default ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay (default ${DEFAULT-VALUE}).")
        double weightDecay;
        @Option(names = "--momentum", defaultValue = "0", description = "SGD momentum (default ${DEFAULT-VALUE}).")
        double momentum;
        @Option(names = "--out", required = true, description = "Where to write the trained model.")
        Path out;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LstmModel m = Safetensors.read(init);
            LstmShape s = m.shape();
            CsvMatrix x = CsvMatrix.read(input, s.inputSize());
            Optimizer opt = switch (optimizer.toLowerCase(Locale.ROOT)) {
                case "adam" -> Optimizer.adam(m.parameterCount(), lr, 0.9, 0.999, 1e-8, weightDecay);
                case "sgd" -> Optimizer.sgd(m.parameterCount(), lr, momentum, weightDecay);
                default -> throw new IllegalArgumentException("--optimizer must be adam or sgd, got '" + optimizer + "'");
            };
            SeriesTrainer.Settings settings = new SeriesTrainer.Settings(seqLen, batch, epochs, clip);
            int windows = SeriesTrainer.windows(x.rows(), seqLen);
            if (windows == 0) {
                throw new IllegalArgumentException(input + ": " + x.rows() + " rows give no window of "
                        + seqLen + " inputs with targets (need at least " + (seqLen + 1) + " rows)");
            }
            PrintWriter o = spec.commandLine().getOut();
            int perEpoch = (windows + batch - 1) / batch;
            double[] sum = new double[1];
            double last = new SeriesTrainer(m, opt, settings).train(x.values(), x.rows(), 0, (step, epoch, loss, norm) -> {
                sum[0] += loss;
                if (step % perEpoch == 0) {
                    o.printf(Locale.ROOT, "epoch %d loss %.6g%n", epoch + 1, sum[0] / perEpoch);
                    o.flush();
                    sum[0] = 0;
                }
            });
            if (!m.isFinite()) {
                throw new IllegalArgumentException("training diverged (non-finite weights); try a lower --lr or --clip");
            }
            m.putMetadata("train.epochs", Integer.toString(epochs));
            m.putMetadata("train.loss", Double.toString(last));
            Safetensors.write(out, m, false);
            o.printf("wrote %s: %d windows, %d optimizer steps%n", out, windows, opt.steps());
            return 0;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Print a model's shape, tensors and metadata.")
    static final class Inspect implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "The .safetensors model.")
        Path model;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LstmModel m = Safetensors.read(model);
            PrintWriter o = spec.commandLine().getOut();
            LstmShape s = m.shape();
            o.printf("model %s%n", model);
            o.printf("shape: input_size=%d hidden_size=%d num_layers=%d output_size=%d%n",
                    s.inputSize(), s.hiddenSize(), s.layers(), s.outputSize());
            o.printf("parameters: %d%n", m.parameterCount());
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                o.printf("  %-14s %s%n", t.name(), java.util.Arrays.toString(t.dims()));
            }
            o.printf("state per key: %d values (h and c of %d layer(s) x %d)%n", s.stateSize(), s.layers(), s.hiddenSize());
            for (Map.Entry<String, String> e : m.metadata().entrySet()) {
                o.printf("metadata %s=%s%n", e.getKey(), e.getValue());
            }
            return 0;
        }
    }
}
