enum ProxyEngineModule {}
