package io.carousel.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Headless Chromium (Debian's {@code chromium}) driven by its command line: {@code --dump-dom}
 * for the page's DOM after its scripts ran, {@code --screenshot} for a picture. Virtual time lets
 * the page's timers and fetches run to completion before the dump, without a fixed sleep; no
 * WebDriver or DevTools client is needed. Each run gets a fresh profile directory.
 */
final class Chromium {

    static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1400,1000");

    private final Path binary;
    private final Path work;

    private Chromium(Path binary, Path work) {
        this.binary = binary;
        this.work = work;
    }

    /** Chromium on this machine, if installed. */
    static Optional<Chromium> find(Path work) {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(new Chromium(p, work));
                }
            }
        }
        return Optional.empty();
    }

    String dumpDom(String url, int virtualTimeMs) throws IOException, InterruptedException {
        return run(url, List.of("--virtual-time-budget=" + virtualTimeMs, "--dump-dom"), null);
    }

    void screenshot(String url, int virtualTimeMs, Path png) throws IOException, InterruptedException {
        run(url, List.of("--virtual-time-budget=" + virtualTimeMs, "--screenshot=" + png.toAbsolutePath()), png);
        if (!Files.isRegularFile(png) || Files.size(png) < 10_000) {
            throw new AssertionError("no screenshot at " + png);
        }
    }

    private String run(String url, List<String> extra, Path expected) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(work, "chromium-profile");
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(FLAGS);
        cmd.add("--user-data-dir=" + profile);
        cmd.addAll(extra);
        cmd.add(url);
        Path out = work.resolve("chromium-" + System.nanoTime() + ".out");
        Path err = work.resolve("chromium-" + System.nanoTime() + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                throw new AssertionError("chromium did not finish within 90 s: " + cmd);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("chromium exited " + p.exitValue() + ": " + Files.readString(err));
        }
        return stdout;
    }
}
