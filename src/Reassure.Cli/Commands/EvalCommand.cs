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
/// model's outputs like every verb (RSR1022); --json must differ from the inputs (RSR1070). --gpu N evaluates the ONNX
/// file in ONNX Runtime (float32) on CUDA device N instead (RSR1080 without the provider; --fallback-to-cpu runs ONNX
/// Runtime on the CPU and says so once); a .nnet model with --gpu is RSR1060.
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
        var gpu = CliFiles.GpuOption();
        gpu.Description = "Evaluate the ONNX file in ONNX Runtime (float32) on CUDA device N instead of the double evaluator. "
            + "Needs a reassure built with Microsoft.ML.OnnxRuntime.Gpu (-p:ReassureGpu=true) and CUDA; without them RSR1080, or the CPU (ONNX Runtime) with --fallback-to-cpu.";
        var fallback = CliFiles.FallbackOption();
        var command = new Command("eval", "Accuracy of a model on labelled rows (in double; with --gpu in ONNX Runtime, float32)." + CliFiles.ExitCodes)
            { model, rows, json, argmin, header, gpu, fallback };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(json), parse.GetValue(argmin), output, error, parse.GetValue(header),
            parse.GetValue(gpu), parse.GetValue(fallback)));
        return command;
    }

    public static int Run(string modelPath, string rowsPath, string? jsonPath, bool argmin, TextWriter output, TextWriter error,
        RowsHeader header = RowsHeader.Auto, int? gpu = null, bool fallbackToCpu = false) => ReassureCli.Guard(error, () =>
    {
        CliFiles.CheckGpu(gpu, fallbackToCpu);
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath)], [("--json", CliOutput.JsonFile(jsonPath))]);
        var file = ModelFile.Load(modelPath);
        if (gpu is not null && file.Onnx is null)
            throw new ReassureException(ErrorCodes.InvalidOption, $"--gpu runs the ONNX file in ONNX Runtime; expected a .onnx model, got {file.Format}", modelPath);
        var net = file.Network;
        var set = RowsCsv.Read(rowsPath, net.InputSize, net.OutputSize, header);
        double[][] outputs;
        if (gpu is not null)
        {
            // The file's own graph (for a repaired file: with its patch nodes) in ONNX Runtime, float32.
            using var session = CliFiles.Session(modelPath, gpu, fallbackToCpu, error);
            try
            {
                outputs = Formats.Onnx.OnnxRuntimeFloat32Evaluator.Run(session, file.Onnx!, set.Inputs);
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
            {
                throw Formats.Onnx.OnnxRuntimeFloat32Evaluator.RuntimeError(e, modelPath);
            }
        }
        else outputs = file.EvaluateBatch(set.Inputs); // a repaired file: the repaired network, as its graph runs it
        int correct = 0;
        for (int r = 0; r < set.Count; r++)
            if (Predict(outputs[r], argmin) == set.Labels[r]) correct++;
        var text = JsonSerializer.Serialize(new EvalResult(set.Count, (double)correct / set.Count), EvalJson.Default.EvalResult);
        if (CliOutput.JsonFile(jsonPath) is { } file1) AtomicFile.WriteAllText(file1, text + "\n");
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture,
            $"accuracy {(double)correct / set.Count:F4} ({correct}/{set.Count} rows get their label{(argmin ? ", argmin" : "")}{(gpu is null ? "" : ", ONNX Runtime float32")})"));
        return ReassureCli.Ok;
    });

    /// <summary>Index of the largest (or smallest) output, first on ties.</summary>
    public static int Predict(double[] y, bool argmin) => Reassure.Repair.Prediction.Of(y, argmin);
}
