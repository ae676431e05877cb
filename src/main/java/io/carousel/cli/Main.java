package io.carousel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar carousel.jar <command>}: wires the subcommands, maps errors to one-line messages. */
@Command(name = "carousel", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Streaming time-series forecasting and anomaly scoring with per-key LSTM state on Kafka Streams.",
        subcommands = {RunCommand.class, DemoCommand.class, ReplayCommand.class, BacktestCommand.class, ModelCommand.class,
            SizingCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this; main exits with it). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (isUserError(ex)) {
                commandLine.getErr().println("carousel: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("carousel: " + ex.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        return cl;
    }

    /** Bad input (a file, a flag value, a CSV cell) rather than a bug: worth a message, not a trace. */
    static boolean isUserError(Throwable ex) {
        return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"carousel " + (v == null ? "dev" : v)};
        }
    }
}
