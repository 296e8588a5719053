// The README's main job: repair the MNIST network on the rows it gets wrong, inside an ML.NET pipeline.
//
//   dotnet run --project samples/RepairPipeline -c Release [-- options]
//
// Options (defaults use the embedded data in samples/RepairPipeline/data):
//   --model <file.onnx>     ONNX ReLU classifier whose input is 784 pixels / 255 (default: REASSURE MNIST 784-256-256-10)
//   --images <idx3[.gz]>    MNIST-format images; --labels <idx1[.gz]> their labels
//   --fit <n>               rows 0..n-1 are the fit rows (default 600); their mistakes are the buggy rows
//   --eval <n>              the last n rows are held out for accuracy (default 1000)
//   --out <file.zip>        where the ML.NET model is saved (default: a temp file)
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Reassure.Formats.Mnist;
using Reassure.MLNet;
using Reassure.Repair;

var c = CultureInfo.InvariantCulture;
const string Usage = """
    RepairPipeline: repair the MNIST network on the rows it gets wrong, inside an ML.NET pipeline.
      --model <file.onnx>   ONNX ReLU classifier on 784 pixels / 255 (default: the embedded REASSURE MNIST network)
      --images <idx3[.gz]>  MNIST-format images; --labels <idx1[.gz]> their labels (default: embedded, 2000 rows)
      --fit <n>             rows 0..n-1 are the fit rows (default 600); their mistakes are the buggy rows
      --eval <n>            the last n rows are held out for accuracy (default 1000)
      --out <file.zip>      where the ML.NET model is saved (default: a temp file)
    Exit codes: 0 all fixed and held-out accuracy not lower; 1 not; 2 bad arguments.
    """;
if (args.Contains("--help") || args.Contains("-h") || args.Contains("-?"))
{
    Console.WriteLine(Usage);
    return 0;
}
string[] known = ["--model", "--images", "--labels", "--fit", "--eval", "--out"];
for (int k = 0; k < args.Length; k += 2)
{
    if (!known.Contains(args[k])) return Fail($"unknown argument '{args[k]}'; expected one of {string.Join(", ", known)} (see --help)");
    if (k + 1 >= args.Length) return Fail($"{args[k]} needs a value (see --help)");
}
if (Count("--fit", 600) is not int fitCount) return 2;
if (Count("--eval", 1000) is not int evalCount) return 2;
string dataDir = Path.Combine(AppContext.BaseDirectory, "data");
string model = Option("--model") ?? Path.Combine(dataDir, "reassure-mnist-256x256.onnx");
string imagesPath = Option("--images") ?? Path.Combine(dataDir, "t10k-images-first2000-idx3-ubyte.gz");
string labelsPath = Option("--labels") ?? Path.Combine(dataDir, "t10k-labels-first2000-idx1-ubyte.gz");
string zip = Option("--out") ?? Path.Combine(Path.GetTempPath(), "reassure-repair-pipeline.zip");

var total = Stopwatch.StartNew();
var images = MnistIdx.ReadImages(imagesPath);
var labels = MnistIdx.ReadLabels(labelsPath);
if (images.Length != labels.Length) return Fail($"{images.Length} images but {labels.Length} labels");
if (fitCount + evalCount > images.Length) return Fail($"--fit {fitCount} + --eval {evalCount} exceeds the {images.Length} rows");
var rows = images.Select((x, i) => new Row { Pixels = x.Select(v => (float)v).ToArray(), Digit = (uint)labels[i] }).ToArray();
int evalStart = rows.Length - evalCount;
Console.WriteLine($"model  {Path.GetFileName(model)}");
Console.WriteLine($"data   {rows.Length} rows of {Path.GetFileName(imagesPath)}: fit on rows 0..{fitCount - 1}, hold out rows {evalStart}..{rows.Length - 1}");

var ml = new MLContext(seed: 1);
var fitData = ml.Data.LoadFromEnumerable(rows[..fitCount]);
var evalData = ml.Data.LoadFromEnumerable(rows[evalStart..]);

// The pipeline: features -> key label -> repair.
var pipeline = ml.Transforms.Concatenate("Features", "Pixels")
    .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
    .Append(ml.Repair(new RepairEstimatorOptions
    {
        ModelPath = model,
        FeatureColumnName = "Features",
        LabelColumnName = "Label",
        Mode = PatchMode.Fast,
        MaxTime = TimeSpan.FromMinutes(5),
        Progress = new Progress<RepairProgress>(p => Console.Write($"\r  {p.Stage,-10} {p.Done}/{p.Total}" + (p.Done == p.Total ? "\n" : "   "))),
    }));
Console.WriteLine("fitting (repairing the rows the model gets wrong) ...");
var fitted = pipeline.Fit(fitData);
var report = fitted.LastTransformer.Report;

// Held-out accuracy: the original model through ML.NET's OnnxTransformer, then the repaired pipeline.
var original = ml.Transforms.Concatenate("input", "Pixels").Append(ml.Transforms.ApplyOnnxModel("output", "input", model)).Fit(evalData);
double accBefore = Accuracy(original.Transform(evalData), "output");
double accAfter = Accuracy(fitted.Transform(evalData), "Score");

Console.WriteLine();
Console.WriteLine($"{"",-36}{"before",10}{"after",10}");
Console.WriteLine($"{"buggy fit rows fixed",-36}{"0 / " + report.BuggyRows.Count,10}{report.Fixed + " / " + report.BuggyRows.Count,10}");
Console.WriteLine($"{$"accuracy on the {fitCount} fit rows",-36}{report.AccuracyBefore,10:P2}{report.AccuracyAfter,10:P2}");
Console.WriteLine($"{$"accuracy on the {evalCount} held-out rows",-36}{accBefore,10:P2}{accAfter,10:P2}");
Console.WriteLine($"{"patches",-36}{"",10}{report.Patches,10}   (max gamma {(report.Gammas.Count > 0 ? report.Gammas.Max() : 0):G3})");
Console.WriteLine($"{"repair time (engine)",-36}{"",10}{report.EngineSeconds.ToString("F1", c) + " s",10}   ({report.LinearPrograms} LPs; whole Fit {report.FitSeconds:F1} s)");
foreach (var u in report.Unfixed) Console.WriteLine($"  unfixed row {u.Row}: {u.ErrorCode} {u.Message}");

// Save, load back, and check the loaded model scores identically.
ml.Model.Save(fitted, fitData.Schema, zip);
var loaded = ml.Model.Load(zip, out _);
var a = Scores(fitted.Transform(evalData));
var b = Scores(loaded.Transform(evalData));
int same = a.Zip(b).Count(p => p.First.AsSpan().SequenceEqual(p.Second));
Console.WriteLine($"saved {zip} ({new FileInfo(zip).Length / 1024} KB); loaded back: {same} / {a.Count} rows score identically");
Console.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");

bool ok = report.AllFixed && accAfter >= accBefore && same == a.Count;
Console.WriteLine(ok ? "OK: all buggy rows fixed, held-out accuracy not lower, save/load identical." : "NOT OK (see above).");
return ok ? 0 : 1;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int? Count(string name, int fallback)
{
    var text = Option(name);
    if (text is null) return fallback;
    if (int.TryParse(text, NumberStyles.None, c, out var n) && n > 0) return n;
    Fail($"{name} '{text}' is not a positive whole number (invariant culture, e.g. 600)");
    return null;
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

List<float[]> Scores(IDataView data, string column = "Score") =>
    data.GetColumn<float[]>(column).ToList();

double Accuracy(IDataView scored, string column)
{
    var scores = Scores(scored, column);
    int right = 0;
    for (int i = 0; i < scores.Count; i++)
    {
        var y = scores[i];
        int best = 0;
        for (int k = 1; k < y.Length; k++) if (y[k] > y[best]) best = k;
        if (best == labels[evalStart + i]) right++;
    }
    return right / (double)scores.Count;
}

internal sealed class Row
{
    [VectorType(784)]
    public float[] Pixels { get; set; } = [];

    public uint Digit { get; set; }
}
