module datahub.example/connections

go 1.19
