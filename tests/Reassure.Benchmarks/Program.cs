using System.Diagnostics;
using System.Globalization;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Verification;
using BenchmarkDotNet.Running;
using Reassure.Benchmarks;

// Long experiments kept out of the test suite; figures go into the issue's closing note.
// Data: the repository's tests/data by default; `--data PATH` (anywhere on the command line) or REASSURE_DATA=PATH for the
// larger staged set laid out as shared/data. vnncomp needs the expected-results.csv files, which only the staged set has;
// hcas, acas-area, mnist, the ort-* commands, lp-profile and micro run on tests/data. A missing file is one line naming what
// to pass, exit code 2.
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- vnncomp [acasxu|mnistfc] [factor]
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- hcas
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- --data /work/shared/data acas-area [search seconds, default 15] [boxes|auto|regions, default boxes] [net/prop]   (issue 21: table beside the anchors)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- --data /work/shared/data verify-table [--categories acasxu,mnistfc] [--factor 1] [--markdown FILE] [--only "net prop" substring]   (issue 21: ours beside VNN-COMP)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- mnist --points 100 [--threads n] [--lp auto|glop] [--baseline on|off]   (issue 6)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- ort-ratio [--points 100] [--noise 0] [--file path] [--rounds 5]   (ORT ratio of a saved repair, re-exported)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- ort-floor [--points 100] [--file path] [--rounds 9]   (ORT: the repaired graph against graphs with parts taken away)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- ort-paths [--points 100] [--decompose|--exact|--open]   (issue 19: the screened export's time by path)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- screen-groups [--points 100] [--noise 0] [--noisy-data]   (issue 19: images the first level leaves open, by grouping)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- ort-fused --library path   (experiment: docs/experiments/fused-gate)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- watermark [--rule previous|best-other] [--threads n]   (issue 17: watermark removal with --avoid)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- lp-profile [--points 10]   (one thread: where the LP time goes)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- localize [--rows 100] [--threads n] [--grid 16] [--naive-neurons 64|all]   (issue 17: causal fault localization vs naive)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- conv [--net avgpool|maxpool|both] [--points 10,100] [--threads n] [--baseline-points 10|0]   (issue 18: point repair on the verivital conv nets)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- --data /work/shared/data feature [--net cifar10|avgpool|maxpool|all] [--layer NAME] [--threads n]   (issue 18: feature-space repair)
//   dotnet run -c Release --project tests/Reassure.Benchmarks -- micro [BenchmarkDotNet arguments, default --filter *]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return Run(SharedData.TakeDataOption(args));
}
catch (DataMissingException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int Run(string[] args)
{
    switch (args.FirstOrDefault())
    {
        case "vnncomp":
            return Benchmarks.Vnncomp(args.Length > 1 ? args[1] : "acasxu", args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 1.0);
        case "verify-table":
            return VerifyTable.Run(args[1..]);
        case "acas-area":
            return Benchmarks.AcasArea(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 15,
                args.Length > 2 ? Enum.Parse<Reassure.Repair.AreaRepairStrategy>(args[2], ignoreCase: true) : Reassure.Repair.AreaRepairStrategy.Boxes,
                args.Length > 3 ? args[3] : null);
        case "acas-files":
            return Benchmarks.AcasFiles(args[1]);
        case "hcas":
            return Benchmarks.Hcas();
        case "mnist":
            return MnistMacro.Run(args[1..]);
        case "ort-ratio":
            return OrtRatio.Run(args[1..]);
        case "screen-stats":
            return ScreenStats.Run(args);
        case "ort-paths":
            return OrtPaths.Run(args);
        case "screen-groups":
            return ScreenGroups.Run(args);
        case "ort-screen":
            return OrtScreen.Run(args);
        case "ort-floor":
            return OrtFloor.Run(args[1..]);
        case "ort-fused":
            return OrtFused.Run(args[1..]);
        case "watermark":
            return WatermarkBenchmark.Run(args[1..]);
        case "lp-profile":
            return LpProfile.Run(args[1..]);
        case "localize":
            return LocalizeBenchmark.Run(args[1..]);
        case "conv":
            return ConvBenchmark.Run(args[1..]);
        case "feature":
            return FeatureBenchmark.Run(args[1..]);
        case "milp-probe":
            return MilpProbe.Run(args[1..]);
        case "conv-lp":
            return ConvLpProbe.Run(args[1..]);
        case "micro":
            // The micro benchmarks run in process; check their data first so that a missing file is one line, not a failed run.
            _ = SharedData.LoadMnistTest(1);
            _ = SharedData.MnistModelPath;
            BenchmarkSwitcher.FromAssembly(typeof(MnistMacro).Assembly).Run(args.Length > 1 ? args[1..] : ["--filter", "*"]);
            return 0;
        default:
            Console.WriteLine("usage: [--data PATH] COMMAND ...   (data: --data PATH or $REASSURE_DATA, a folder laid out as shared/data; default the repository's tests/data)");
            Console.WriteLine("       verify-table [--categories acasxu,mnistfc] [--factor 1] [--markdown FILE] [--only NET_PROP_SUBSTRING]");
            Console.WriteLine("       vnncomp [acasxu|mnistfc] [timeout factor] | acas-area [seconds] [auto|regions|boxes] [net/prop, e.g. 2_1/2] | acas-files DIR | hcas");
            Console.WriteLine("       mnist --points 10|100|10,100 [--threads n] [--lp auto|glop] [--baseline on|off] [--baseline-points 10] [--inference on|off] [--memory on|off] [--warmup on|off]");
            Console.WriteLine("       ort-ratio [--points 100] [--noise 0] [--file path] [--rounds 5] | ort-floor [--points 100] [--file path] [--rounds 9]");
            Console.WriteLine("       ort-fused --library path [--points 100] [--file path] [--rounds 9] | lp-profile [--points 10] [--cold]");
            Console.WriteLine("       localize [--rows 100] [--threads n] [--grid 16] [--naive-neurons 64|all]");
            Console.WriteLine("       watermark [--rule previous|best-other] [--threads n]");
            Console.WriteLine("       conv [--net avgpool|maxpool|both] [--points 10,100] [--threads n] [--baseline-points 10|0]");
            Console.WriteLine("       feature [--net cifar10|avgpool|maxpool|all] [--layer NAME] [--threads n]");
            Console.WriteLine("       micro [BenchmarkDotNet arguments; default --filter *]");
            return 2;
    }
}

internal static partial class Benchmarks
{

    public static int Vnncomp(string category, double factor)
    {
        var csv = File.ReadAllLines(SharedData.File("vnncomp", category, "expected-results.csv")).Skip(1);
        int decided = 0, wrong = 0, total = 0;
        foreach (var line in csv)
        {
            var f = line.Split(',');
            var model = OnnxImporter.Load(SharedData.Listed(f[1])).Network;
            var prop = VnnLibReader.Read(SharedData.Listed(f[2]));
            double timeout = double.Parse(f[3], CultureInfo.InvariantCulture) * factor;
            var sw = Stopwatch.StartNew();
            var r = PropertyVerifier.Verify(model, prop, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(timeout) });
            total++;
            bool ok = r.StatusText == f[4];
            if (r.Status != VerificationStatus.Unknown) { decided++; if (!ok) wrong++; }
            Console.WriteLine($"{Path.GetFileName(f[1]),-36} {Path.GetFileName(f[2]),-20} expected {f[4],-8} got {r.StatusText,-8} {sw.Elapsed.TotalSeconds,7:F2} s boxes {r.Boxes,7} regions {r.Regions,6} LPs {r.LinearPrograms,7} {(r.Status == VerificationStatus.Unknown ? r.Detail : ok ? "" : "WRONG")}");
        }
        Console.WriteLine($"{category}: decided {decided}/{total}, wrong {wrong}");
        return wrong == 0 ? 0 : 1;
    }
}
