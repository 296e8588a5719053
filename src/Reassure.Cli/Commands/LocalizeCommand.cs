using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Reassure.Causality;
using Reassure.Formats;
using Reassure.Formats.Rows;
using Reassure.Reports;
using Spectre.Console;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure localize --model M --rows R.csv [--layer NAME] [--top k] [--grid 16] [--threads n] [--json out.json|-]
/// [--report out.html] [--header auto|yes|no]`: causal fault localization (<see cref="CausalLocalizer"/>): for every
/// hidden neuron (of every hidden layer, or the one whose ONNX activation or pre-activation tensor is NAME), the spread
/// of the mean label margin of the rows under do(a_j = v), v over a grid of the neuron's observed range; prints the
/// top k per layer. A repaired file (written by `repair` or `area`) is localized on the original network inside it
/// (its patches are not neurons; the summary says so). Errors: RSR1053 an unknown layer (lists the hidden layers),
/// RSR1060 an option value, RSR1070/1071 output paths, the rows errors of every verb; all exit 2.
/// </summary>
internal static class LocalizeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var rows = new Option<string>("--rows", "-r") { Description = "Rows CSV: inputs, then the integer label (e.g. the misclassified rows).", Required = true };
        var layer = new Option<string?>("--layer") { Description = "Only the hidden layer with this ONNX tensor name (activation or pre-activation; see inspect). Default: every hidden layer." };
        var top = NumericOptions.Int("--top", "Neurons printed per layer.", () => 10, 1, 1_000_000);
        var grid = NumericOptions.Int("--grid", "Intervention values per neuron, evenly spaced over its observed range on the rows (both ends included).", () => LocalizationOptions.DefaultGridSteps, 2, 4096);
        var threads = NumericOptions.Int("--threads", "Neurons analysed in parallel (default: the processor count; the result does not depend on it).", () => Environment.ProcessorCount, 1, 4096);
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var report = new Option<string?>("--report") { Description = "Also write an HTML report (effect per neuron, curves of the top neurons) to this file." };
        var header = CliFiles.HeaderOption();
        var command = new Command("localize", "Causal fault localization: rank hidden neurons by the effect of do(a_j = v) on the label margin of the rows."
            + CliFiles.ExitCodes) { model, rows, layer, top, grid, threads, json, report, header };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(layer), parse.GetValue(top), parse.GetValue(grid),
            parse.GetValue(threads), parse.GetValue(json), parse.GetValue(report), output, error, parse.GetValue(header)));
        return command;
    }

    public static int Run(string modelPath, string rowsPath, string? layerName, int top, int grid, int threads, string? jsonPath, string? reportPath,
        TextWriter output, TextWriter error, RowsHeader header = RowsHeader.Auto) => ReassureCli.Guard(error, () =>
    {
        NumericOptions.Require("--top", top, 1, true, 1_000_000);
        NumericOptions.Require("--grid", grid, 2, true, 4096);
        NumericOptions.Require("--threads", threads, 1, true, 4096);
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath)], [("--json", CliOutput.JsonFile(jsonPath)), ("--report", reportPath)]);
        var file = ModelFile.Load(modelPath);
        var net = file.Network; // a repaired file: the original network inside it
        var options = new LocalizationOptions { GridSteps = grid, Layer = layerName, MaxDegreeOfParallelism = threads };
        _ = CausalLocalizer.SelectLayers(net, options); // an unknown layer fails before the rows are read
        var set = RowsCsv.Read(rowsPath, net.InputSize, net.OutputSize, header);
        var result = CliOutput.Stage(error, "localize", "neurons", () => CausalLocalizer.Localize(net, set.Inputs, set.Labels, options));
        bool repaired = file.Repaired is not null;
        var layers = new JsonArray();
        foreach (var l in result.Layers)
        {
            var ranking = new JsonArray();
            foreach (var e in l.Ranked.Take(top))
            {
                ranking.Add(new JsonObject
                {
                    ["neuron"] = e.Neuron,
                    ["effect"] = e.Effect,
                    ["observedMin"] = e.ObservedMin,
                    ["observedMax"] = e.ObservedMax,
                    ["grid"] = new JsonArray(e.Grid.Select(v => (JsonNode?)v).ToArray()),
                    ["meanMargins"] = new JsonArray(e.MeanMargins.Select(v => (JsonNode?)v).ToArray()),
                });
            }
            layers.Add(new JsonObject
            {
                ["index"] = l.Index,
                ["name"] = l.Name,
                ["neurons"] = l.Neurons.Count,
                ["effects"] = new JsonArray(l.Neurons.Select(e => (JsonNode?)e.Effect).ToArray()),
                ["ranking"] = ranking,
            });
        }
        var summary = new JsonObject
        {
            ["rows"] = result.Rows,
            ["gridSteps"] = result.GridSteps,
            ["baselineMeanMargin"] = result.BaselineMeanMargin,
            ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 3),
            ["network"] = repaired ? "original (the repaired file's network without its patches)" : "model",
            ["layers"] = layers,
        };
        var text = summary.ToJsonString();
        var files = new List<(string, byte[])>();
        if (CliOutput.JsonFile(jsonPath) is { } jsonFile) files.Add((jsonFile, AtomicFile.Utf8(text + "\n")));
        if (reportPath is not null)
        {
            var html = LocalizationReport.From(result, new LocalizationReportOptions
            {
                Model = modelPath,
                Top = top,
                Notes = [string.Create(CultureInfo.InvariantCulture, $"reassure localize: rows {Path.GetFileName(rowsPath)}, grid {grid}{(layerName is null ? "" : $", layer {layerName}")}{(repaired ? "; repaired file: the original network inside it" : "")}")],
            }).ToHtml();
            files.Add((reportPath, AtomicFile.Utf8(html)));
        }
        if (files.Count > 0) AtomicFile.WriteAll(files);
        if (jsonPath == CliOutput.Stdout)
        {
            output.WriteLine(text);
            return ReassureCli.Ok;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"localized {result.Ranked.Count} neurons over {result.Rows} rows ({result.GridSteps} grid values each) in {result.Elapsed.TotalSeconds:F2} s; baseline mean margin {result.BaselineMeanMargin:G6}"));
        if (repaired) output.WriteLine("repaired file: localized on the original network inside it (the patches are not neurons)");
        var console = Consoles.For(output);
        foreach (var l in result.Layers)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"layer {l.Index}: {l.Name} ({l.Neurons.Count} neurons), top {Math.Min(top, l.Neurons.Count)}"));
            var table = new Table().AddColumns("rank", "neuron", "effect", "a_j on the rows", "M at min", "M at max", "best v", "M at best v");
            int rank = 0;
            foreach (var e in l.Ranked.Take(top))
            {
                int best = LocalizationReport.Best(e);
                table.AddRow(
                    (++rank).ToString(CultureInfo.InvariantCulture), e.Neuron.ToString(CultureInfo.InvariantCulture), G(e.Effect),
                    Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"[{e.ObservedMin:G5}, {e.ObservedMax:G5}]")), G(e.MeanMargins[0]), G(e.MeanMargins[^1]), G(e.Grid[best]), G(e.MeanMargins[best]));
            }
            console.Write(table);
        }
        return ReassureCli.Ok;
    });

    private static string G(double v) => Markup.Escape(v.ToString("G5", CultureInfo.InvariantCulture));
}
