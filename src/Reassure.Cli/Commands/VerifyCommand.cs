using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Formats;
using Reassure.Formats.Rows;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure verify --model R.onnx --rows BUGGY.csv [--argmin] [--json out.json]`: re-checks every row from the files
/// alone, running the (repaired) ONNX graph in ONNX Runtime (float32): each row's label must be the prediction.
/// --gpu N runs it on CUDA device N (RSR1080 without the provider; --fallback-to-cpu runs on the CPU and says so once).
/// Exit 0 only when every row passes. ONNX Runtime refusing the model or the row shape is RSR1008 (exit 2); labels are
/// checked against the outputs (RSR1022); --json must differ from the inputs (RSR1070); a manifest beside the model
/// must match it (RSR1072).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "ONNX model (e.g. the output of `repair`).", Required = true };
        var rows = new Option<string?>("--rows", "-r") { Description = "Rows CSV: inputs, then the required label (rows mode)." };
        var vnnlib = new Option<string?>("--vnnlib") { Description = "VNN-LIB property to prove over its input boxes (property mode)." };
        var maxSeconds = NumericOptions.OptionalDouble("--max-seconds", "Time budget of the property mode in seconds (result unknown when hit).", 0, minInclusive: false, NumericOptions.MaxSeconds);
        var header = CliFiles.HeaderOption();
        var argmin = new Option<bool>("--argmin") { Description = "The label is the output with the smallest score (ACAS Xu)." };
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var gpu = CliFiles.GpuOption();
        var fallback = CliFiles.FallbackOption();
        var command = new Command("verify", "Check in ONNX Runtime that every row gets its label (--rows), or prove a VNN-LIB property (--vnnlib)." + CliFiles.ExitCodes)
            { model, rows, vnnlib, maxSeconds, argmin, json, header, gpu, fallback };
        command.SetAction(parse =>
        {
            string? r = parse.GetValue(rows), v = parse.GetValue(vnnlib);
            if ((r is null) == (v is null)) { error.WriteLine($"{ErrorCodes.InvalidOption}: verify needs exactly one of --rows and --vnnlib"); return ReassureCli.BadInput; }
            if (v is not null && (parse.GetValue(gpu) is not null || parse.GetValue(fallback)))
            {
                error.WriteLine($"{ErrorCodes.InvalidOption}: --gpu: the property mode (--vnnlib) runs no ONNX Runtime session; expected --gpu with --rows");
                return ReassureCli.BadInput;
            }
            return v is not null
                ? AreaCommand.Verify(parse.GetValue(model)!, v, parse.GetValue(maxSeconds), parse.GetValue(json), output, error)
                : Run(parse.GetValue(model)!, r!, parse.GetValue(argmin), parse.GetValue(json), output, error, parse.GetValue(header),
                    parse.GetValue(gpu), parse.GetValue(fallback));
        });
        return command;
    }

    public static int Run(string modelPath, string rowsPath, bool argmin, string? jsonPath, TextWriter output, TextWriter error,
        RowsHeader header = RowsHeader.Auto, int? gpu = null, bool fallbackToCpu = false) => ReassureCli.Guard(error, () =>
    {
        CliFiles.CheckGpu(gpu, fallbackToCpu);
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath)], [("--json", CliOutput.JsonFile(jsonPath))]);
        Repair.RepairManifest.CheckPair(modelPath);
        using var session = CliFiles.Session(modelPath, gpu, fallbackToCpu, error);
        var input = session.InputMetadata.First();
        var dims = input.Value.Dimensions;
        long widthLong = dims.Skip(1).Where(d => d > 0).Aggregate(1L, (a, d) => a * d);
        if (widthLong > int.MaxValue)
            throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, $"the input '{input.Key}' has {widthLong} values per row; expected at most {int.MaxValue}", modelPath);
        var set = RowsCsv.Read(rowsPath, (int)widthLong, header);
        int failed = 0;
        for (int r = 0; r < set.Count; r++)
        {
            var shape = dims.Select((d, k) => k == 0 ? 1 : Math.Max(1, d)).ToArray();
            var tensor = new DenseTensor<float>(set.Inputs[r].Select(v => (float)v).ToArray(), shape);
            double[] y;
            try
            {
                using var results = session.Run([NamedOnnxValue.CreateFromTensor(input.Key, tensor)]);
                y = results.First().AsTensor<float>().Select(v => (double)v).ToArray();
            }
            catch (OnnxRuntimeException e)
            {
                throw Formats.Onnx.OnnxRuntimeFloat32Evaluator.RuntimeError(e, $"{modelPath}, {set.Where(r)}");
            }
            if (r == 0) set.CheckLabels(y.Length);
            int predicted = EvalCommand.Predict(y, argmin);
            if (predicted == set.Labels[r]) continue;
            failed++;
            error.WriteLine($"{ErrorCodes.GateNotFixed}: {rowsPath}: row {r + 1}: predicted {predicted}, expected {set.Labels[r]}");
        }
        var text = new JsonObject { ["rows"] = set.Count, ["passed"] = set.Count - failed, ["failed"] = failed }.ToJsonString();
        if (CliOutput.JsonFile(jsonPath) is { } file) AtomicFile.WriteAllText(file, text + "\n");
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture, $"{set.Count - failed}/{set.Count} rows get their label in ONNX Runtime"));
        return failed == 0 ? ReassureCli.Ok : ReassureCli.Failure;
    });
}
