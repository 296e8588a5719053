using System.Globalization;
using System.CommandLine;
using System.Text.Json;
using Reassure.Formats;
using Reassure.Formats.Rows;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure eval --model M --rows R.csv [--json out.json] [--argmin]`: accuracy of the model (double evaluator of the
/// Core network) on labelled rows; the prediction is the argmax of the outputs (argmin with --argmin, ACAS Xu style;
/// first index on ties). Prints and optionally writes <c>{"rows": N, "accuracy": a}</c>. Labels are checked against the
/// model's outputs like every verb (RSR1022); --json must differ from the inputs (RSR1070).
/// </summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var rows = new Option<string>("--rows", "-r") { Description = "Rows CSV: inputs, then the integer label.", Required = true };
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var argmin = new Option<bool>("--argmin") { Description = "Predict the output with the smallest score (ACAS Xu)." };
        var header = CliFiles.HeaderOption();
        var command = new Command("eval", "Accuracy of a model on labelled rows." + CliFiles.ExitCodes) { model, rows, json, argmin, header };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(json), parse.GetValue(argmin), output, error, parse.GetValue(header)));
        return command;
    }

    public static int Run(string modelPath, string rowsPath, string? jsonPath, bool argmin, TextWriter output, TextWriter error,
        RowsHeader header = RowsHeader.Auto) => ReassureCli.Guard(error, () =>
    {
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath)], [("--json", CliOutput.JsonFile(jsonPath))]);
        var file = ModelFile.Load(modelPath);
        var net = file.Network;
        var set = RowsCsv.Read(rowsPath, net.InputSize, net.OutputSize, header);
        var outputs = file.EvaluateBatch(set.Inputs); // a repaired file: the repaired network, as its graph runs it
        int correct = 0;
        for (int r = 0; r < set.Count; r++)
            if (Predict(outputs[r], argmin) == set.Labels[r]) correct++;
        var text = JsonSerializer.Serialize(new EvalResult(set.Count, (double)correct / set.Count), EvalJson.Default.EvalResult);
        if (CliOutput.JsonFile(jsonPath) is { } file1) AtomicFile.WriteAllText(file1, text + "\n");
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture,
            $"accuracy {(double)correct / set.Count:F4} ({correct}/{set.Count} rows get their label{(argmin ? ", argmin" : "")})"));
        return ReassureCli.Ok;
    });

    /// <summary>Index of the largest (or smallest) output, first on ties.</summary>
    public static int Predict(double[] y, bool argmin) => Reassure.Repair.Prediction.Of(y, argmin);
}
