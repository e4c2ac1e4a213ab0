module datahub.example/connections-example

go 1.19

require datahub.example/connections v0.0.0

replace datahub.example/connections => ../../capi/go
