using System.Diagnostics;
using System.Globalization;
using Reassure.Repair;
using Spectre.Console;

namespace Reassure.Cli;

/// <summary>
/// Where a verb's results go. Standard output carries the human summary; <c>--json FILE</c> writes the machine summary
/// to a file, and <c>--json -</c> writes it to standard output instead of the human lines (for scripts and pipes).
/// Progress goes to standard error: a Spectre.Console progress display when standard error is a terminal, plain lines
/// otherwise, so that redirected output stays readable and stdout stays clean.
/// </summary>
internal static class CliOutput
{
    /// <summary>The value of <c>--json</c> that means standard output.</summary>
    public const string Stdout = "-";

    /// <summary>The help text of every verb's <c>--json</c> option.</summary>
    public const string JsonHelp = "Also write the result as JSON to this file ('-': to standard output, in place of the human summary).";

    /// <summary>The file <c>--json</c> names, or null (absent, or standard output).</summary>
    public static string? JsonFile(string? json) => json == Stdout ? null : json;

    /// <summary>Writes the summary: the JSON to stdout for <c>--json -</c>, else the human lines.</summary>
    public static void Summary(TextWriter output, string? json, string machine, params string[] human)
    {
        if (json == Stdout)
        {
            output.WriteLine(machine);
            return;
        }
        foreach (var line in human) output.WriteLine(line);
    }

    /// <summary>Whether progress can be drawn live: the error writer is this process's standard error, and it is a terminal.</summary>
    private static bool Interactive(TextWriter error) =>
        ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <summary>
    /// Runs <paramref name="work"/> with a progress sink for the engine: live bars per stage on a terminal; otherwise one
    /// plain line per stage start and per quarter of a stage, with the elapsed time (<c>reassure repair: patches 50/100 (3.1 s)</c>).
    /// </summary>
    public static T WithProgress<T>(TextWriter error, string verb, Func<IProgress<RepairProgress>, T> work)
    {
        var clock = Stopwatch.StartNew();
        if (!Interactive(error))
        {
            var sink = new PlainProgress(error, verb, clock);
            return work(sink);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var gate = new object();
                var sink = new Progress(p =>
                {
                    lock (gate)
                    {
                        if (!tasks.TryGetValue(p.Stage, out var task))
                            tasks[p.Stage] = task = ctx.AddTask($"{verb}: {Markup.Escape(p.Stage)}", maxValue: Math.Max(1, p.Total));
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                    }
                });
                result = work(sink);
                lock (gate) foreach (var t in tasks.Values) t.Value = t.MaxValue;
            });
        return result;
    }

    /// <summary>Reports a stage by name around <paramref name="work"/> (verbs whose engine call has no finer progress).</summary>
    public static T Stage<T>(TextWriter error, string verb, string stage, Func<T> work) =>
        WithProgress(error, verb, progress =>
        {
            progress.Report(new RepairProgress(stage, 0, 1));
            var result = work();
            progress.Report(new RepairProgress(stage, 1, 1));
            return result;
        });

    /// <summary>Synchronous <see cref="IProgress{T}"/> (engine threads report; the sink locks).</summary>
    private sealed class Progress(Action<RepairProgress> report) : IProgress<RepairProgress>
    {
        public void Report(RepairProgress value) => report(value);
    }

    /// <summary>Plain lines: a stage's start, each quarter, and its end.</summary>
    private sealed class PlainProgress(TextWriter error, string verb, Stopwatch clock) : IProgress<RepairProgress>
    {
        private readonly Dictionary<string, int> _quarter = new(StringComparer.Ordinal);
        private readonly object _gate = new();

        public void Report(RepairProgress p)
        {
            lock (_gate)
            {
                int quarter = p.Total <= 0 ? 4 : (int)Math.Min(4, 4L * p.Done / p.Total);
                if (_quarter.TryGetValue(p.Stage, out var last) && quarter <= last) return;
                _quarter[p.Stage] = quarter;
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reassure {verb}: {p.Stage} {p.Done}/{p.Total} ({clock.Elapsed.TotalSeconds:F1} s)"));
            }
        }
    }
}
