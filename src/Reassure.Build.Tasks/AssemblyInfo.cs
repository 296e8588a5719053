[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Reassure.Build.Tasks.Tests")]
