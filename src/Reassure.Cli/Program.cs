return Reassure.Cli.ReassureCli.Run(args, Console.Out, Console.Error);
