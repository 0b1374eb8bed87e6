print("nanoscope")
